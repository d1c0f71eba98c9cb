/**
 * The answer to a request nothing on the node took, or whose handler passed on an error: what
 * express's own final handler would do, minus what it must not. Express answers in HTML and, while
 * NODE_ENV is unset (as `npm start` runs), puts the error's stack trace in the page: a malformed
 * percent-encoding in a route parameter (`DELETE /blocks/%E0%A4%A`) showed a URIError's stack with
 * the node's file paths. Here: a short plain-text answer with the status, never an internal; the
 * error, with its stack, goes to the log when it is the node's fault (5xx).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type winston from 'winston';
import { pathOf } from './request-path.js';

/** A request as express or the direct routes left it (`originalUrl`: the target as sent). */
type Request = IncomingMessage & { readonly originalUrl?: string };

/**
 * Answers 404 (`err` undefined: nothing serves the path) or the error's own 4xx/5xx status (500
 * when it has none). A response already begun is cut short instead: its client sees it incomplete.
 */
export function finalAnswer(req: Request, res: ServerResponse, err: unknown, logger?: winston.Logger): void {
  const target = req.originalUrl ?? req.url ?? '';
  const status = err === undefined ? 404 : errorStatus(err);
  if (status >= 500) {
    logger?.error('request failed outside any endpoint', {
      method: req.method,
      path: pathOf(target),
      error: err instanceof Error ? err.message : String(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
  }
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  const text = err === undefined ? `Cannot ${req.method} ${pathOf(target)}\n` : `${status} ${STATUS_CODES[status] ?? 'Error'}\n`;
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

/** The status an error carries (express's and http-errors' `status`/`statusCode`), if it is an HTTP error status. */
function errorStatus(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const status = e?.status ?? e?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 600 ? status : 500;
}
