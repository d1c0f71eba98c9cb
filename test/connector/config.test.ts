import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../connector/config.js';

describe('configuration', () => {
  it('has defaults that start a complete node on the embedded store', () => {
    const c = parseConfig({});
    expect(c.port).to.equal(8080);
    expect(c.dataDir).to.equal('./data');
    expect(c.mongoUri).to.equal(undefined);
    expect(c.endpoints).to.deep.equal({
      registry: '/xds/registry',
      repository: '/xds/repository',
      responding: '/xca/responding',
      initiating: '/xca/initiating',
    });
  });

  it('names an unknown key, even a nested one', () => {
    expect(() => parseConfig({ registry: { queryResultLimt: 10 } })).to.throw(ConfigError, "'registry.queryResultLimt'");
  });

  it('names a key with a wrong value', () => {
    expect(() => parseConfig({ homeCommunityId: '2.16.578.1' })).to.throw(ConfigError, 'homeCommunityId');
    expect(() => parseConfig({ registry: { patientIds: { acceptedAssigningAuthorities: ['not an oid'] } } })).to.throw(
      ConfigError,
      'registry.patientIds.acceptedAssigningAuthorities.0',
    );
  });

  it('applies environment overrides over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-config-'));
    const file = join(dir, 'node.json');
    writeFileSync(file, JSON.stringify({ port: 9000, dataDir: '/srv/a', homeCommunityId: 'urn:oid:1.2.3' }));
    const c = loadConfig({ file, env: { PORT: '9100', DATA_DIR: '/srv/b', MONGODB_URI: '' } });
    expect(c.port).to.equal(9100);
    expect(c.dataDir).to.equal('/srv/b');
    expect(c.mongoUri).to.equal(undefined);
    expect(c.homeCommunityId).to.equal('urn:oid:1.2.3');
  });

  it('rejects a PORT that is not a number, naming the key', () => {
    expect(() => loadConfig({ env: { PORT: 'eighty' } })).to.throw(ConfigError, 'port');
  });

  it('reports unreadable and malformed files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ port: 1 ');
    expect(() => loadConfig({ file, env: {} })).to.throw(ConfigError, 'not valid JSON');
    expect(() => loadConfig({ file: join(dir, 'missing.json'), env: {} })).to.throw(ConfigError, 'cannot read');
  });
});
