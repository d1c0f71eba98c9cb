/**
 * Syslog transport of audit messages to an Audit Record Repository (IHE ATNA ITI-20):
 * RFC 5424 messages, sent over TLS with RFC 5425 octet counting or over UDP (RFC 5426).
 *
 * Octet counting counts BYTES of the UTF-8 message, not characters: "Ærlig Øvergård" is 14
 * characters and 17 bytes, and a receiver that reads a character count as a byte count cuts the
 * XML short and reads the rest as the next frame. Messages are built as Buffers for that reason.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import tls from 'node:tls';

export const APP_NAME = 'koblingspunkt';
export const MSG_ID = 'IHE+RFC-3881';
/** facility 10 (security/authorization, authpriv) × 8 + severity 5 (notice), as ATNA senders use. */
export const DEFAULT_PRIORITY = 10 * 8 + 5;

export interface SyslogMessageOptions {
  /** HOSTNAME field; default: this machine's host name. */
  hostname?: string;
  /** PROCID field; default: this process id. */
  procId?: string;
  /** Default: now. */
  timestamp?: Date;
  priority?: number;
  /**
   * Prefix the MSG with a UTF-8 BOM (RFC 5424 §6.4). Off by default: ATNA repositories parse the
   * MSG as an XML document whose declaration already names UTF-8, and several reject the BOM.
   */
  bom?: boolean;
}

/** RFC 5424 header fields are printable US-ASCII without spaces, at most `max` octets, or "-". */
function headerField(value: string, max: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return cleaned === '' ? '-' : cleaned;
}

/** One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`, as UTF-8 bytes. */
export function formatSyslogMessage(msg: string, options: SyslogMessageOptions = {}): Buffer {
  const header =
    `<${options.priority ?? DEFAULT_PRIORITY}>1 ${(options.timestamp ?? new Date()).toISOString()} ` +
    `${headerField(options.hostname ?? hostname(), 255)} ${APP_NAME} ${headerField(options.procId ?? String(process.pid), 128)} ${MSG_ID} - `;
  const parts = [Buffer.from(header, 'ascii')];
  if (options.bom) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  parts.push(Buffer.from(msg, 'utf8'));
  return Buffer.concat(parts);
}

/** RFC 5425 frame: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN the message's length in octets. */
export function octetCountedFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/** A destination for formatted syslog messages. `send` resolves once the message is handed to the network. */
export interface SyslogSender {
  send(message: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface TlsSyslogOptions {
  host: string;
  port: number;
  /** PEM CA certificate(s) that sign the repository's certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Our client certificate and key (mutual TLS, as ATNA secure nodes use). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** TLS server name to verify; default: host unless it is an IP address. */
  servername?: string;
  /** Give up a connection attempt after this long (ms). Default 5000. */
  connectTimeoutMs?: number;
  /** Most messages written but not yet flushed to the socket; further sends wait. Default 100. */
  maxInFlight?: number;
}

/**
 * RFC 5425 sender: one TLS connection, opened on first use and reopened after any error, so a
 * repository restart costs only the messages in flight at that moment — and those are not
 * lost, because `send` rejects for them and the durable queue keeps them.
 */
export class TlsSyslogSender implements SyslogSender {
  private socket: tls.TLSSocket | undefined;
  private connecting: Promise<tls.TLSSocket> | undefined;
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: TlsSyslogOptions) {}

  async send(message: Buffer): Promise<void> {
    if (this.closed) throw new Error('syslog sender is closed');
    await this.slot();
    try {
      const socket = await this.connect();
      await new Promise<void>((resolve, reject) => {
        const onClose = (): void => reject(new Error('syslog connection closed before the message was written'));
        socket.once('close', onClose);
        socket.write(octetCountedFrame(message), (err) => {
          socket.off('close', onClose);
          if (err) reject(err);
          else resolve();
        });
      });
    } catch (e) {
      this.drop();
      throw e;
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.socket;
    this.socket = undefined;
    if (s !== undefined && !s.destroyed) await new Promise<void>((resolve) => s.end(resolve));
  }

  private async slot(): Promise<void> {
    const max = this.options.maxInFlight ?? 100;
    while (this.inFlight >= max) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.inFlight++;
  }

  private release(): void {
    this.inFlight--;
    this.waiters.shift()?.();
  }

  private drop(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): Promise<tls.TLSSocket> {
    if (this.socket !== undefined && !this.socket.destroyed) return Promise.resolve(this.socket);
    if (this.connecting !== undefined) return this.connecting;
    const o = this.options;
    this.connecting = new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({
        host: o.host,
        port: o.port,
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
        ...(o.cert !== undefined ? { cert: o.cert } : {}),
        ...(o.key !== undefined ? { key: o.key } : {}),
        ...(o.servername !== undefined ? { servername: o.servername } : isIP(o.host) ? {} : { servername: o.host }),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`syslog TLS connect to ${o.host}:${o.port} timed out`));
      }, o.connectTimeoutMs ?? 5000);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        // Each message in flight listens for 'close' until it is written.
        socket.setMaxListeners((o.maxInFlight ?? 100) + 10);
        // Later errors only end this connection; the next send opens a new one.
        socket.on('error', () => socket.destroy());
        socket.on('close', () => {
          if (this.socket === socket) this.socket = undefined;
        });
        this.socket = socket;
        resolve(socket);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    }).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }
}

export interface UdpSyslogOptions {
  host: string;
  port: number;
}

/** Largest UDP payload over IPv4; a longer message cannot be sent over UDP at all. */
export const MAX_UDP_MESSAGE = 65_507;

export class MessageTooLargeError extends Error {
  constructor(bytes: number) {
    super(`audit message of ${bytes} bytes exceeds the UDP limit of ${MAX_UDP_MESSAGE}; use the TLS transport`);
    this.name = 'MessageTooLargeError';
  }
}

/** RFC 5426 sender: one message per datagram, no framing. UDP gives no delivery guarantee. */
export class UdpSyslogSender implements SyslogSender {
  private socket: UdpSocket | undefined;

  constructor(private readonly options: UdpSyslogOptions) {}

  async send(message: Buffer): Promise<void> {
    if (message.length > MAX_UDP_MESSAGE) throw new MessageTooLargeError(message.length);
    if (this.socket === undefined) {
      this.socket = createSocket(isIP(this.options.host) === 6 ? 'udp6' : 'udp4');
      this.socket.unref();
    }
    const socket = this.socket;
    await new Promise<void>((resolve, reject) =>
      socket.send(message, this.options.port, this.options.host, (err) => (err ? reject(err) : resolve())),
    );
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
