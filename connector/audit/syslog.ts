/**
 * Syslog transport of audit messages to an Audit Record Repository (IHE ATNA ITI-20):
 * RFC 5424 messages, sent over TLS with RFC 5425 octet counting or over UDP (RFC 5426).
 *
 * Octet counting counts BYTES of the UTF-8 message, not characters: "Ærlig Øvergård" is 14
 * characters and 17 bytes, and a receiver that reads a character count as a byte count cuts the
 * XML short and reads the rest as the next frame. Messages are built as Buffers for that reason.
 *
 * WHEN IS A MESSAGE DELIVERED? RFC 5425 has no acknowledgement. That the kernel took the bytes
 * (the write callback) says nothing: they may sit in our send buffer, in flight, or unread in the
 * repository's receive buffer, and die with the repository (measured: an ARR frozen under load and
 * then killed lost 292 of 293 events that had all been "written"). Nothing a sender can observe on
 * an open connection proves that the repository read a given byte either: the kernels between
 * the two applications buffer megabytes, and how much is not visible from Node. What IS
 * observable is the end of a connection: when we close our side (TLS close_notify, then FIN) and
 * the repository answers with its own close, it has read everything up to our close_notify —
 * a TLS endpoint sees close_notify only after every record before it, and a receiver that stops
 * reading never sees it (a paused or frozen one does not answer; one that dies with unread bytes
 * in its receive buffer makes its kernel send a reset, not a FIN).
 *
 * So `TlsSyslogSender.send` resolves only once the connection that carried the message was
 * closed that way: the sender closes its connection after a short pause in traffic
 * (`confirmIdleMs`), after `confirmMaxMs` under continuous traffic, or when `maxInFlight` messages
 * wait, and opens a new one for what follows. A connection that ends any other way — reset, error,
 * the repository closing first, a write that makes no progress for `writeTimeoutMs`, no answer to
 * our close within `closeTimeoutMs` — rejects every message it carried (and every message waiting
 * for it); the durable queue keeps them and sends them again, so the repository may receive a
 * message twice, recognisable by the event id in the structured data (`auditSyslogMessage`).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { toDicomXml } from './dicom.js';
import type { AuditEvent } from './event.js';

export const APP_NAME = 'koblingspunkt';
export const MSG_ID = 'IHE+RFC-3881';
/** facility 10 (security/authorization, authpriv) × 8 + severity 5 (notice), as ATNA senders use. */
export const DEFAULT_PRIORITY = 10 * 8 + 5;
/**
 * SD-ID of the structured-data element that carries the audit event's id. RFC 5424 §7.2.2 wants
 * `name@<private enterprise number>` for an SD-ID that IANA did not register; 32473 is the number
 * RFC 5612 reserves for documentation, used here because this project has none of its own.
 * (MSGID cannot carry the id: ATNA fixes it to IHE+RFC-3881, and a UUID exceeds its 32 octets.)
 */
export const EVENT_SD_ID = 'koblingspunkt@32473';

export interface SyslogMessageOptions {
  /** HOSTNAME field; default: this machine's host name. */
  hostname?: string;
  /** PROCID field; default: this process id. */
  procId?: string;
  /** Default: now. `auditSyslogMessage` sets the event's own time. */
  timestamp?: Date;
  priority?: number;
  /**
   * Prefix the MSG with a UTF-8 BOM (RFC 5424 §6.4). Off by default: ATNA repositories parse the
   * MSG as an XML document whose declaration already names UTF-8, and several reject the BOM.
   */
  bom?: boolean;
  /** The audit event's id, written as STRUCTURED-DATA `[koblingspunkt@32473 eventId="…"]`; default none ("-"). */
  eventId?: string;
}

/** RFC 5424 header fields are printable US-ASCII without spaces, at most `max` octets, or "-". */
function headerField(value: string, max: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return cleaned === '' ? '-' : cleaned;
}

/** An SD-PARAM value: `"`, `\` and `]` escaped with a backslash (RFC 5424 §6.3.3). */
function sdValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`, as UTF-8 bytes. */
export function formatSyslogMessage(msg: string, options: SyslogMessageOptions = {}): Buffer {
  const sd = options.eventId !== undefined ? `[${EVENT_SD_ID} eventId="${sdValue(options.eventId)}"]` : '-';
  const header =
    `<${options.priority ?? DEFAULT_PRIORITY}>1 ${(options.timestamp ?? new Date()).toISOString()} ` +
    `${headerField(options.hostname ?? hostname(), 255)} ${APP_NAME} ${headerField(options.procId ?? String(process.pid), 128)} ${MSG_ID} ${sd} `;
  const parts = [Buffer.from(header, 'utf8')];
  if (options.bom) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  parts.push(Buffer.from(msg, 'utf8'));
  return Buffer.concat(parts);
}

/**
 * The syslog message of an audit event: its DICOM XML, the event's own time as TIMESTAMP (not the
 * time of sending, which after an outage may be long after the event) and its id as structured
 * data, so that a repository can recognise a message it received twice.
 */
export function auditSyslogMessage(event: AuditEvent, options: Omit<SyslogMessageOptions, 'timestamp' | 'eventId'> = {}): Buffer {
  const at = new Date(event.recorded);
  return formatSyslogMessage(toDicomXml(event), {
    ...options,
    // An event always has a valid time; should one not, the message must still go out.
    timestamp: Number.isNaN(at.getTime()) ? new Date() : at,
    eventId: event.id,
  });
}

/** RFC 5425 frame: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN the message's length in octets. */
export function octetCountedFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/**
 * A destination for formatted syslog messages. `send` resolves once the message is delivered as
 * far as the transport can tell: over TLS, once the repository demonstrably read it (see above);
 * over UDP, once the datagram left (UDP can tell no more). A rejected message may still have
 * arrived: the caller sends it again, and the receiver sees it twice.
 */
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
  /** Most messages sent on one connection and not yet confirmed; when reached, the connection is closed to confirm them. Default 100. */
  maxInFlight?: number;
  /** Close (and so confirm) the connection after this long without a new message (ms). Default 200. */
  confirmIdleMs?: number;
  /** Under continuous traffic, close the connection once its oldest unconfirmed message is this old (ms). Default 2000. */
  confirmMaxMs?: number;
  /** Abandon the connection when writes are pending and none completed for this long (ms): a hung repository. Default 10000. */
  writeTimeoutMs?: number;
  /** Abandon the connection when the repository does not answer our close within this long (ms). Default 5000. */
  closeTimeoutMs?: number;
}

/** A message accepted by `send`. */
interface Pending {
  readonly frame: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** When `send` accepted it (ms). */
  readonly at: number;
}

/** One TLS connection and the messages it carried that are not yet confirmed. */
interface Connection {
  readonly socket: tls.TLSSocket;
  readonly unconfirmed: Pending[];
  /** We closed our side (close_notify, FIN) and wait for the repository's answer. */
  closing: boolean;
  /** The repository's FIN arrived. */
  peerEnded: boolean;
  /** Confirmed or failed: nothing more happens on it. */
  settled: boolean;
  /** Writes handed to the socket whose callback has not come yet. */
  pendingWrites: number;
  writeTimer: NodeJS.Timeout | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  ageTimer: NodeJS.Timeout | undefined;
  closeTimer: NodeJS.Timeout | undefined;
  readonly done: Promise<void>;
  readonly markDone: () => void;
}

/** What the sender has done so far (for health pages, metrics and tests). */
export interface TlsSyslogStats {
  /** Messages accepted by `send` and neither confirmed nor rejected yet. */
  readonly unconfirmed: number;
  /** How long the oldest of them has waited (ms), or null when there is none. */
  readonly oldestUnconfirmedAgeMs: number | null;
  /** Messages confirmed since the sender was made. */
  readonly confirmed: number;
  /** Connections confirmed by a clean close, and connections that ended any other way. */
  readonly confirmedConnections: number;
  readonly failedConnections: number;
}

export class SyslogConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SyslogConnectionError';
  }
}

/**
 * RFC 5425 sender that counts a message delivered only when a clean close of its connection
 * proves the repository read it (see the top of this file). One connection at a time; messages
 * are written in the order `send` was called; messages sent while a connection is being closed
 * wait for the next one.
 */
export class TlsSyslogSender implements SyslogSender {
  /** Accepted, not yet written. */
  private readonly backlog: Pending[] = [];
  private conn: Connection | undefined;
  private connecting = false;
  private closed = false;
  /** The last TLS session the repository offered: the next connection resumes it (a cheaper handshake per window). */
  private session: Buffer | undefined;
  private confirmed = 0;
  private confirmedConnections = 0;
  private failedConnections = 0;
  private readonly o: Required<Pick<TlsSyslogOptions, 'connectTimeoutMs' | 'maxInFlight' | 'confirmIdleMs' | 'confirmMaxMs' | 'writeTimeoutMs' | 'closeTimeoutMs'>>;

  constructor(private readonly options: TlsSyslogOptions) {
    this.o = {
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      maxInFlight: Math.max(1, options.maxInFlight ?? 100),
      confirmIdleMs: options.confirmIdleMs ?? 200,
      confirmMaxMs: options.confirmMaxMs ?? 2000,
      writeTimeoutMs: options.writeTimeoutMs ?? 10_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 5000,
    };
  }

  send(message: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('syslog sender is closed'));
    return new Promise<void>((resolve, reject) => {
      this.backlog.push({ frame: octetCountedFrame(message), resolve, reject, at: Date.now() });
      this.pump();
    });
  }

  stats(now = Date.now()): TlsSyslogStats {
    const c = this.conn;
    const inConn = c !== undefined && !c.settled ? c.unconfirmed.length : 0;
    const oldest = (inConn > 0 ? c!.unconfirmed[0] : this.backlog[0])?.at;
    return {
      unconfirmed: inConn + this.backlog.length,
      oldestUnconfirmedAgeMs: oldest === undefined ? null : now - oldest,
      confirmed: this.confirmed,
      confirmedConnections: this.confirmedConnections,
      failedConnections: this.failedConnections,
    };
  }

  /** Confirms what was sent (a clean close, waited for at most closeTimeoutMs) and stops; messages still waiting are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('syslog sender is closed');
    for (const p of this.backlog.splice(0)) p.reject(error);
    const c = this.conn;
    if (c !== undefined && !c.settled) {
      this.confirm(c);
      await c.done;
    }
  }

  /** Writes what waits, on the open connection, or opens one. */
  private pump(): void {
    if (this.backlog.length === 0) return;
    const c = this.conn;
    if (c === undefined) {
      if (!this.connecting && !this.closed) this.open();
      return;
    }
    // A connection being closed takes no more: what waits goes on the next one, after it settled.
    if (c.closing || c.settled) return;
    while (this.backlog.length > 0 && c.unconfirmed.length < this.o.maxInFlight) this.write(c, this.backlog.shift()!);
    if (c.unconfirmed.length >= this.o.maxInFlight) this.confirm(c);
  }

  private write(c: Connection, p: Pending): void {
    c.unconfirmed.push(p);
    if (c.unconfirmed.length === 1) c.ageTimer = setTimeout(() => this.confirm(c), this.o.confirmMaxMs);
    c.pendingWrites++;
    if (c.writeTimer === undefined) c.writeTimer = this.writeTimer(c);
    c.socket.write(p.frame, (err) => {
      c.pendingWrites--;
      if (c.settled) return;
      if (err) {
        this.fail(c, new SyslogConnectionError(`syslog write failed: ${err.message}`, { cause: err }));
        return;
      }
      // Progress: the write timeout counts from the last write that completed.
      if (c.pendingWrites === 0) {
        clearTimeout(c.writeTimer);
        c.writeTimer = undefined;
      } else c.writeTimer?.refresh();
    });
    if (c.idleTimer === undefined) c.idleTimer = setTimeout(() => this.confirm(c), this.o.confirmIdleMs);
    else c.idleTimer.refresh();
  }

  private writeTimer(c: Connection): NodeJS.Timeout {
    return setTimeout(() => {
      if (c.pendingWrites > 0) this.fail(c, new SyslogConnectionError(`syslog write made no progress for ${this.o.writeTimeoutMs} ms`));
    }, this.o.writeTimeoutMs);
  }

  /** Closes our side; the repository's answer confirms every message of the connection (see 'close' in attach). */
  private confirm(c: Connection): void {
    if (c.closing || c.settled) return;
    c.closing = true;
    clearTimeout(c.idleTimer);
    clearTimeout(c.ageTimer);
    c.closeTimer = setTimeout(
      () => this.fail(c, new SyslogConnectionError(`syslog repository did not answer the close within ${this.o.closeTimeoutMs} ms`)),
      this.o.closeTimeoutMs,
    );
    c.socket.end();
  }

  private succeed(c: Connection): void {
    if (c.settled) return;
    c.settled = true;
    this.clearTimers(c);
    if (this.conn === c) this.conn = undefined;
    this.confirmed += c.unconfirmed.length;
    this.confirmedConnections++;
    for (const p of c.unconfirmed.splice(0)) p.resolve();
    c.markDone();
    this.pump();
  }

  /**
   * The connection ended in a way that proves nothing: every message it carried is rejected, and
   * so is every message waiting for the next connection, so that the caller's backoff, not this
   * sender, decides when to try again.
   */
  private fail(c: Connection, error: Error): void {
    if (c.settled) return;
    c.settled = true;
    this.clearTimers(c);
    c.socket.destroy();
    if (this.conn === c) this.conn = undefined;
    this.failedConnections++;
    for (const p of c.unconfirmed.splice(0)) p.reject(error);
    for (const p of this.backlog.splice(0)) p.reject(error);
    c.markDone();
  }

  private clearTimers(c: Connection): void {
    clearTimeout(c.writeTimer);
    clearTimeout(c.idleTimer);
    clearTimeout(c.ageTimer);
    clearTimeout(c.closeTimer);
  }

  private open(): void {
    this.connecting = true;
    const o = this.options;
    const socket = tls.connect({
      host: o.host,
      port: o.port,
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      ...(o.cert !== undefined ? { cert: o.cert } : {}),
      ...(o.key !== undefined ? { key: o.key } : {}),
      ...(o.servername !== undefined ? { servername: o.servername } : isIP(o.host) ? {} : { servername: o.host }),
      ...(this.session !== undefined ? { session: this.session } : {}),
    });
    socket.on('session', (session: Buffer) => {
      this.session = session;
    });
    let over = false;
    const failed = (error: Error): void => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      socket.destroy();
      this.connecting = false;
      this.failedConnections++;
      for (const p of this.backlog.splice(0)) p.reject(error);
    };
    const timer = setTimeout(() => failed(new SyslogConnectionError(`syslog TLS connect to ${o.host}:${o.port} timed out`)), this.o.connectTimeoutMs);
    const onError = (e: Error): void => failed(new SyslogConnectionError(`syslog TLS connect to ${o.host}:${o.port} failed: ${e.message}`, { cause: e }));
    socket.on('error', onError);
    socket.once('secureConnect', () => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      socket.off('error', onError);
      this.connecting = false;
      // Listeners are attached in this same callback: an error emitted later finds them.
      this.attach(socket);
      if (this.closed) {
        this.fail(this.conn!, new Error('syslog sender is closed'));
        return;
      }
      this.pump();
    });
  }

  private attach(socket: tls.TLSSocket): void {
    let markDone!: () => void;
    const done = new Promise<void>((resolve) => {
      markDone = resolve;
    });
    const c: Connection = {
      socket,
      unconfirmed: [],
      closing: false,
      peerEnded: false,
      settled: false,
      pendingWrites: 0,
      writeTimer: undefined,
      idleTimer: undefined,
      ageTimer: undefined,
      closeTimer: undefined,
      done,
      markDone,
    };
    this.conn = c;
    // A repository sends nothing on RFC 5425; reading is what lets us see its FIN.
    socket.on('data', () => undefined);
    socket.on('end', () => {
      c.peerEnded = true;
      // Closed by the repository before we asked: it may have read less than we wrote.
      if (!c.closing) this.fail(c, new SyslogConnectionError('syslog repository closed the connection before its messages were confirmed'));
    });
    socket.on('error', (e) => this.fail(c, new SyslogConnectionError(`syslog connection failed: ${e.message}`, { cause: e })));
    socket.on('close', (hadError) => {
      // Confirmed only by the repository's FIN in answer to our close, with no error on the way.
      if (c.closing && c.peerEnded && !hadError) this.succeed(c);
      else this.fail(c, new SyslogConnectionError('syslog connection closed before its messages were confirmed'));
    });
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
