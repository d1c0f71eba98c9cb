/**
 * A small real syslog receiver for the tests: a node:tls listener on 127.0.0.1 that splits the
 * byte stream into RFC 5425 frames (MSG-LEN SP MSG, length in octets), and a UDP one (RFC 5426).
 * It keeps the raw bytes so tests can check the framing byte for byte.
 *
 * The TLS one can be frozen (it stops reading every connection, present and future: what a hung
 * Audit Record Repository does; the bytes then sit unread in buffers) and killed (`close`: every
 * connection destroyed, unread bytes and all, and the port closed), and started again on the same
 * port. Like a real repository it answers a client's close by closing, and records a frame only
 * once it read it whole.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { fixture } from '../../fixtures/index.js';

const certDir = (name: string): string => fixture('certs', 'audit', name);
export const TEST_CA = readFileSync(certDir('ca.pem'));
const SERVER_CERT = readFileSync(certDir('arr.pem'));
const SERVER_KEY = readFileSync(certDir('arr.key'));

export interface ReceivedFrame {
  /** The MSG-LEN the sender wrote. */
  readonly declaredLength: number;
  /** The message bytes (exactly declaredLength of them). */
  readonly message: Buffer;
}

export interface TlsReceiver {
  readonly port: number;
  readonly frames: ReceivedFrame[];
  /** Stops reading: every open connection is paused, and every new one right after its handshake. */
  freeze(): void;
  /** Connections accepted so far. */
  connections(): number;
  /** Every byte received, across connections, in order. */
  raw(): Buffer;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function startTlsReceiver(port = 0): Promise<TlsReceiver> {
  const frames: ReceivedFrame[] = [];
  const chunks: Buffer[] = [];
  const sockets = new Set<tls.TLSSocket>();
  let frozen = false;
  let accepted = 0;
  const server = tls.createServer({ cert: SERVER_CERT, key: SERVER_KEY }, (socket) => {
    accepted++;
    sockets.add(socket);
    if (frozen) socket.pause();
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const space = pending.indexOf(0x20);
        if (space < 0) return;
        const header = pending.subarray(0, space).toString('ascii');
        if (!/^[1-9]\d*$/.test(header)) {
          // A framing error: record it as a frame the tests will reject, and stop reading this stream.
          frames.push({ declaredLength: -1, message: Buffer.from(pending) });
          socket.destroy();
          return;
        }
        const length = Number(header);
        if (pending.length < space + 1 + length) return;
        frames.push({ declaredLength: length, message: Buffer.from(pending.subarray(space + 1, space + 1 + length)) });
        pending = pending.subarray(space + 1 + length);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    frames,
    freeze: () => {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    connections: () => accepted,
    raw: () => Buffer.concat(chunks),
    waitFor: (count, timeoutMs = 5000) => waitUntil(() => frames.length >= count, timeoutMs, `${count} syslog frame(s)`),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface UdpReceiver {
  readonly port: number;
  readonly datagrams: Buffer[];
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startUdpReceiver(): Promise<UdpReceiver> {
  const datagrams: Buffer[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (m) => datagrams.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {
    port: socket.address().port,
    datagrams,
    waitFor: (count, timeoutMs = 5000) => waitUntil(() => datagrams.length >= count, timeoutMs, `${count} datagram(s)`),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The event id a syslog message carries in its structured data (`[koblingspunkt@32473 eventId="…"]`), if any. */
export function eventIdOf(message: Buffer): string | undefined {
  return /^<\d+>1 \S+ \S+ \S+ \S+ \S+ \[koblingspunkt@32473 eventId="([^"]+)"\]/.exec(message.toString('utf8'))?.[1];
}

/** The DICOM XML of a syslog message (after the header and structured data). */
export function xmlOf(message: Buffer): string {
  return message.toString('utf8').replace(/^<\d+>1 \S+ \S+ \S+ \S+ \S+ (-|\[(?:[^\]\\]|\\.)*\]) /, '');
}

/** A TCP port with (at this moment) nothing listening on it. */
export async function freePort(): Promise<number> {
  const probe = tls.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
