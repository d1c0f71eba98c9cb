/**
 * Structured logging: one JSON object per line, so that log shippers need no parsing rules.
 *
 * Every SOAP request gets a child logger carrying the WS-Addressing MessageID and Action, so
 * all lines about one transaction can be found by the id the peer also logged.
 */
import winston from 'winston';

export interface LoggerOptions {
  /** winston level: error, warn, info, http, verbose, debug, silly. */
  level: string;
  /** Drop every line (tests). */
  silent?: boolean;
}

export function createLogger(options: LoggerOptions): winston.Logger {
  return winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

export interface RequestLogContext {
  /** WS-Addressing MessageID of the request (absent when the peer sent none or it was unreadable). */
  messageId?: string | undefined;
  /** WS-Addressing Action of the request. */
  action?: string | undefined;
}

/** The logger for one SOAP request; fields that are unknown are left out rather than logged as undefined. */
export function requestLogger(base: winston.Logger, context: RequestLogContext): winston.Logger {
  const meta: Record<string, string> = {};
  if (context.messageId !== undefined) meta.messageId = context.messageId;
  if (context.action !== undefined) meta.action = context.action;
  return base.child(meta);
}
