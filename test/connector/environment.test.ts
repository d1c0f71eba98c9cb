/**
 * Environment overrides are named by their variable when refused (the operator typed `PORT=abc`,
 * not `port`), a secret in a refused value is masked, and a configuration file's message says
 * where its name came from.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, environmentOverrides, loadConfig, maskSecrets } from '../../connector/config.js';

/** The ConfigError message loadConfig throws for this environment. */
function refusal(env: NodeJS.ProcessEnv, file?: string, fileFrom?: string): string {
  try {
    loadConfig({ env, ...(file !== undefined ? { file } : {}), ...(fileFrom !== undefined ? { fileFrom } : {}) });
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('environment overrides', () => {
  it('names PORT, with what it must hold and what it got', () => {
    expect(refusal({ PORT: 'abc' })).to.equal('invalid configuration: PORT (overrides port): expected an integer 0–65535, got "abc"');
    for (const bad of ['70000', '-1', '80.5', '1e3', '0x50', ' 80']) {
      expect(refusal({ PORT: bad }), bad).to.contain(`PORT (overrides port): expected an integer 0–65535, got ${JSON.stringify(bad)}`);
    }
  });

  it('takes every port in range, 0 included', () => {
    expect(loadConfig({ env: { PORT: '0' } }).port).to.equal(0);
    expect(loadConfig({ env: { PORT: '65535' } }).port).to.equal(65535);
  });

  it('names HOME_COMMUNITY_ID, LOG_LEVEL and MONGODB_URI, all in one message', () => {
    const message = refusal({ HOME_COMMUNITY_ID: '1.2.3', LOG_LEVEL: 'loud', MONGODB_URI: 'localhost:27017' });
    expect(message).to.contain('HOME_COMMUNITY_ID (overrides homeCommunityId): expected urn:oid:<OID>');
    expect(message).to.contain('got "1.2.3"');
    expect(message).to.contain('LOG_LEVEL (overrides logLevel): expected one of error, warn, info, http, verbose, debug, silly, got "loud"');
    expect(message).to.contain('MONGODB_URI (overrides mongoUri): expected a mongodb:// or mongodb+srv:// connection string');
    expect(message).not.to.match(/received|homeCommunityId:|logLevel:/);
  });

  it('never repeats a password from a refused connection string', () => {
    const message = refusal({ MONGODB_URI: 'postgres://kp:hunter2@db.example/kp' });
    expect(message).to.contain('got "postgres://kp:****@db.example/kp"');
    expect(message).not.to.contain('hunter2');
  });

  it('names the file key, not a variable, when the file holds the bad value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-env-'));
    try {
      const file = join(dir, 'node.json');
      writeFileSync(file, JSON.stringify({ port: 'abc' }));
      expect(refusal({}, file)).to.match(/^invalid configuration: port: /);
      // The environment's value replaces the file's, so it is the one refused, by its name.
      expect(refusal({ PORT: 'x' }, file)).to.contain('PORT (overrides port)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says where the name of an unreadable configuration file came from', () => {
    expect(refusal({}, join(tmpdir(), 'kp-missing-config.json'), 'KOBLINGSPUNKT_CONFIG')).to.match(
      /^cannot read configuration file .*kp-missing-config\.json \(KOBLINGSPUNKT_CONFIG\): ENOENT/,
    );
  });

  it('lists the overrides that are set, empty ones not counted', () => {
    expect(environmentOverrides({ DATA_DIR: '/srv/kp', PORT: '1', HOST: '', OTHER: 'x' })).to.deep.equal(['PORT', 'DATA_DIR']);
  });
});

describe('maskSecrets', () => {
  it('masks the password of the user info, several hosts included', () => {
    expect(maskSecrets('mongodb://kp:s3cr%40t@a.example:27017,b.example:27017/kp?replicaSet=rs0')).to.equal(
      'mongodb://kp:****@a.example:27017,b.example:27017/kp?replicaSet=rs0',
    );
    expect(maskSecrets('mongodb+srv://kp:pw@cluster.example/kp')).to.equal('mongodb+srv://kp:****@cluster.example/kp');
    expect(maskSecrets('mongodb://kp:p@ss@h.example/kp')).to.equal('mongodb://kp:****@h.example/kp');
  });

  it('masks options that hold secrets and leaves the rest alone', () => {
    expect(maskSecrets('mongodb://h/kp?tlsCertificateKeyFilePassword=pw&authSource=admin')).to.equal(
      'mongodb://h/kp?tlsCertificateKeyFilePassword=****&authSource=admin',
    );
    expect(maskSecrets('mongodb://localhost:27017/kp')).to.equal('mongodb://localhost:27017/kp');
    expect(maskSecrets('mongodb://kp@localhost/kp')).to.equal('mongodb://kp@localhost/kp');
  });
});
