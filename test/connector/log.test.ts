/**
 * Logging: lines below the configured level are dropped before winston formats them (the
 * per-request info lines would otherwise be timestamped and serialised on every request), and
 * request loggers keep the same levels as the node's logger.
 */
import { expect } from 'chai';
import type winston from 'winston';
import { createLogger, requestLogger } from '../../connector/log';

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
