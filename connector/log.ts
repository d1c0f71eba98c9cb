/**
 * Structured logging: one JSON object per line, so that log shippers need no parsing rules.
 *
 * Every SOAP request gets a child logger carrying the WS-Addressing MessageID and Action, so
 * all lines about one transaction can be found by the id the peer also logged.
 */
import winston from 'winston';
import { isoTime } from './clock.js';

export interface LoggerOptions {
  /** winston level: error, warn, info, http, verbose, debug, silly. */
  level: string;
  /** Drop every line (tests). */
  silent?: boolean;
  /**
   * Which process of a multi-process node writes the lines (`processes` > 1): `worker: N` or
   * `process: 'primary'` on every line, so that one worker's lines can be told from another's.
   */
  process?: { readonly worker: number } | 'primary';
}

/**
 * winston's `timestamp()` (the time of the line as ISO 8601 text; a timestamp the caller gave is
 * kept), with the text made by clock.ts: several lines share a millisecond on a busy node.
 */
const timestamp = winston.format((info) => {
  if (!info.timestamp) info.timestamp = isoTime(Date.now());
  return info;
});

export function createLogger(options: LoggerOptions): winston.Logger {
  const logger = winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    format: winston.format.combine(timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console()],
    ...(options.process === undefined ? {} : { defaultMeta: options.process === 'primary' ? { process: 'primary' } : { worker: options.process.worker } }),
  });
  // winston formats (timestamp, JSON) every line before its transports drop those below the
  // level: at level warn the per-request info lines cost ~2 % of a warm query's CPU for nothing.
  // The methods of levels that are off become no-ops on the instance; request loggers
  // (`child`) inherit them. The level is fixed for the life of the node (set from the config).
  const off = function (this: winston.Logger) {
    return this;
  } as unknown as winston.LeveledLogMethod;
  for (const level of Object.keys(logger.levels)) {
    if (!logger.isLevelEnabled(level)) (logger as unknown as Record<string, winston.LeveledLogMethod>)[level] = off;
  }
  writeDirectlyToConsole(logger);
  return logger;
}

/** winston's keys of a line's level and of its formatted text (triple-beam's, registered symbols). */
const LEVEL = Symbol.for('level');
const MESSAGE = Symbol.for('message');

/** A line as winston passes it along: its fields, and the level and text under LEVEL and MESSAGE. */
type Line = Record<string | symbol, unknown>;

/** The parts of winston's stream machinery the direct write checks (readable-stream 3, winston 3). */
interface StreamInternals {
  readonly _readableState: { readonly pipes: unknown; readonly length: number };
  readonly _writableState: { readonly length: number; readonly ending: boolean; readonly destroyed: boolean };
}

/**
 * A line the logger writes goes from the format straight to the console's stdout while the logger
 * is as created here: its one Console transport, nothing buffered, not silent. winston's own path
 * is two object-mode streams (the logger is a Transform piped into the transport), whose write,
 * push, pipe and callbacks cost ~10 µs of a line's ~17 µs (measured alone, writing to /dev/null);
 * under ITI-42 the node writes two lines per request. The line is the one winston writes, with the
 * same checks in the same order: the logger's format (`Logger#_transform`), then the transport's
 * level (`TransportStream#_write`; the Console transport has no format of its own), then what
 * `Console#log` writes (stderr for its stderrLevels and consoleWarnLevels, else stdout). Anything
 * else (a transport added, as tests do; a silent logger; a line winston would complain about or
 * treat as an exception) takes winston's path.
 */
function writeDirectlyToConsole(logger: winston.Logger): void {
  const transport = logger.transports[0];
  if (logger.transports.length !== 1 || !(transport instanceof winston.transports.Console)) return;
  const console_ = transport as winston.transports.ConsoleTransportInstance & {
    readonly stderrLevels: Record<string, boolean>;
    readonly consoleWarnLevels: Record<string, boolean>;
    readonly eol: string;
    readonly forceConsole: boolean;
    readonly handleExceptions?: boolean;
  } & StreamInternals;
  const streamWrite = logger.write as (this: winston.Logger, info: Line) => boolean;
  const direct = function (this: winston.Logger & StreamInternals, info: Line): boolean {
    const level = (info[LEVEL] as string | undefined) || (info.level as string);
    // Where `Console#log` writes: Node maps process.stdout and process.stderr to these.
    const console = globalThis.console as Console & { _stdout?: NodeJS.WritableStream; _stderr?: NodeJS.WritableStream };
    if (
      this.silent ||
      this._readableState.pipes !== console_ ||
      this._readableState.length !== 0 ||
      this._writableState.length !== 0 ||
      this._writableState.ending ||
      this._writableState.destroyed ||
      console_._writableState.length !== 0 ||
      console_.silent ||
      console_.forceConsole ||
      console._stdout === undefined ||
      console._stderr === undefined ||
      this.levels[level] === undefined ||
      info.exception === true ||
      console_.listenerCount('logged') > 0
    ) {
      return streamWrite.call(this, info);
    }
    info[LEVEL] = level;
    const line = this.format.transform(info as winston.Logform.TransformableInfo, this.format.options) as Line | false;
    if (!line) return true;
    const threshold = console_.level || this.level;
    if (!threshold || this.levels[threshold]! >= this.levels[line[LEVEL] as string]!) {
      const text = `${line[MESSAGE] as string}${console_.eol}`;
      const lineLevel = line[LEVEL] as string;
      const stream = console_.stderrLevels[lineLevel] || console_.consoleWarnLevels[lineLevel] ? console._stderr : console._stdout;
      stream.write(text);
    }
    return true;
  };
  (logger as unknown as { write: typeof direct }).write = direct;
}

export interface RequestLogContext {
  /** WS-Addressing MessageID of the request (absent when the peer sent none or it was unreadable). */
  messageId?: string | undefined;
  /** WS-Addressing Action of the request. */
  action?: string | undefined;
}

/**
 * The logger for one SOAP request; fields that are unknown are left out rather than logged as
 * undefined.
 *
 * What winston's `child(meta)` makes, made more cheaply: an object inheriting from `base` whose
 * own `write` adds the request's fields under each line's own (a line's fields win, as in a
 * child). winston defines that `write` with Object.create's property descriptors, a slow path
 * taken for every request; a plain assignment gives the same object.
 */
export function requestLogger(base: winston.Logger, context: RequestLogContext): winston.Logger {
  const meta: Record<string, string> = {};
  if (context.messageId !== undefined) meta.messageId = context.messageId;
  if (context.action !== undefined) meta.action = context.action;
  const child = Object.create(base) as winston.Logger;
  (child as unknown as { write: (info: winston.LogEntry) => void }).write = function (info) {
    const line: Record<string, unknown> = Object.assign({}, meta, info);
    // As winston's child: Object.assign does not copy an Error's own message and stack (not enumerable).
    if (info instanceof Error) {
      line.stack = info.stack;
      line.message = info.message;
      line.cause = info.cause;
    }
    base.write(line);
  };
  return child;
}
