/**
 * The one setting of a multi-process node: `processes` (KOBLINGSPUNKT_PROCESSES), 1 by default so
 * that nothing changes for a node that does not set it.
 */
import { expect } from 'chai';
import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig, parseConfig } from '../../connector/config.js';
import { processCount } from '../../connector/cluster/protocol.js';

describe('the processes setting', () => {
  it('is 1 by default: one process, as always', () => {
    const config = parseConfig({});
    expect(config.processes).to.equal(1);
    expect(processCount(config)).to.equal(1);
  });

  it('takes a number of processes or "auto", the cores available', () => {
    expect(processCount(parseConfig({ processes: 4 }))).to.equal(4);
    expect(processCount(parseConfig({ processes: 'auto' }))).to.equal(availableParallelism());
  });

  it('KOBLINGSPUNKT_PROCESSES overrides it; a bad value is named by its variable', () => {
    expect(loadConfig({ env: { KOBLINGSPUNKT_PROCESSES: '3' } }).processes).to.equal(3);
    expect(loadConfig({ env: { KOBLINGSPUNKT_PROCESSES: 'auto' } }).processes).to.equal('auto');
    expect(() => loadConfig({ env: { KOBLINGSPUNKT_PROCESSES: 'many' } })).to.throw(
      ConfigError,
      'KOBLINGSPUNKT_PROCESSES (overrides processes): expected an integer 1–256 or auto, got "many"',
    );
    expect(() => loadConfig({ env: { KOBLINGSPUNKT_PROCESSES: '0' } })).to.throw(ConfigError, 'KOBLINGSPUNKT_PROCESSES');
  });

  it('refuses 0, fractions and other words in the file', () => {
    for (const processes of [0, 1.5, 'all', -2]) expect(() => parseConfig({ processes }), String(processes)).to.throw(ConfigError, 'processes');
  });
});
