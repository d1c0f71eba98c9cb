/**
 * Logging: lines below the configured level are dropped before winston formats them (the
 * per-request info lines would otherwise be timestamped and serialised on every request), and
 * request loggers keep the same levels as the node's logger.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { createLogger, requestLogger } from '../../connector/log.js';

/** Counts what reaches the logger's stream (i.e. what winston would format). */
function counting(logger: winston.Logger): { lines: () => { level: string; message: unknown }[] } {
  const seen: { level: string; message: unknown }[] = [];
  const write = logger.write.bind(logger);
  (logger as unknown as { write: (info: winston.LogEntry) => boolean }).write = (info) => {
    seen.push({ level: info.level, message: info.message });
    return write(info);
  };
  return { lines: () => seen };
}

describe('logging', () => {
  it('at level warn, info and debug lines of the node and of a request never reach winston', () => {
    const logger = createLogger({ level: 'warn', silent: true });
    const { lines } = counting(logger);
    const request = requestLogger(logger, { messageId: 'urn:uuid:1', action: 'urn:ihe:iti:2007:RegistryStoredQuery' });
    request.info('soap request', { status: 200 });
    request.debug('details');
    logger.info('started');
    request.warn('denied by the trust policy');
    logger.error('audit queue commit failed');
    expect(lines()).to.deep.equal([
      { level: 'warn', message: 'denied by the trust policy' },
      { level: 'error', message: 'audit queue commit failed' },
    ]);
  });

  it('at level info, info lines are written, debug lines are not', () => {
    const logger = createLogger({ level: 'info', silent: true });
    const { lines } = counting(logger);
    requestLogger(logger, { messageId: 'urn:uuid:2' }).info('soap request');
    logger.debug('details');
    expect(lines()).to.deep.equal([{ level: 'info', message: 'soap request' }]);
  });
});

describe('request logger', () => {
  /** A logger with the node's line format whose lines are kept in memory, as written. */
  function capturing(): { logger: winston.Logger; lines: string[] } {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = winston.createLogger({
      level: 'debug',
      format: winston.format.combine(winston.format.timestamp({ format: () => '2026-01-01T00:00:00.000Z' }), winston.format.errors({ stack: true }), winston.format.json()),
      transports: [new winston.transports.Stream({ stream: sink })],
    });
    return { logger, lines };
  }

  it("writes the lines winston's child logger writes: the request's fields, a line's own fields winning", () => {
    const ours = capturing();
    const theirs = capturing();
    const context = { messageId: 'urn:uuid:3', action: 'urn:ihe:iti:2007:RegistryStoredQuery' };
    const write = (log: winston.Logger) => {
      log.info('soap request', { status: 200, replyAction: 'urn:ihe:iti:2007:RegistryStoredQueryResponse', ms: 4 });
      log.warn('denied', { action: 'overridden', reason: 'ATT-5' });
      log.log('error', 'soap fault', { code: 'Receiver', subcode: undefined });
      log.error(new Error('boom'));
      log.info('with an error as meta', new Error('inner'));
      log.debug({ message: 'an object line', count: 2 });
      log.child({ extra: 'x' }).info('grandchild', { n: 1 });
    };
    write(requestLogger(ours.logger, context));
    write(theirs.logger.child(context));
    const withoutStacks = (lines: string[]) => lines.map((l) => l.replace(/"stack":"[^"]*"/, '"stack":"…"'));
    expect(ours.lines).to.have.length(7);
    expect(withoutStacks(ours.lines)).to.deep.equal(withoutStacks(theirs.lines));
  });

  it('leaves out fields the request does not have', () => {
    const { logger, lines } = capturing();
    requestLogger(logger, {}).info('soap request');
    expect(JSON.parse(lines[0]!)).to.deep.equal({ level: 'info', message: 'soap request', timestamp: '2026-01-01T00:00:00.000Z' });
  });
});
