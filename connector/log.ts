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
  return logger;
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
