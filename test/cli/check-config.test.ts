/**
 * `koblingspunkt check-config`: the configuration as `start` would take it (file and environment),
 * printed with its secrets masked; a bad one is named in one line with exit code 2.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers.js';

describe('koblingspunkt check-config', () => {
  let work: string;
  let file: string;
  const BLOCKS_TOKEN = 'blocks-api-token-0123456789abcdef0123456789';
  const ACCESS_TOKEN = 'access-log-token-0123456789';

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kp-cli-config-'));
    file = join(work, 'node.json');
    writeFileSync(
      file,
      JSON.stringify({
        port: 8443,
        mongoUri: 'mongodb://koblingspunkt:hemmelig-passord@db1.example:27017,db2.example:27017/kp?authSource=admin&replicaSet=rs0',
        trust: { blocksApi: { token: BLOCKS_TOKEN } },
        audit: { accessLog: { token: ACCESS_TOKEN } },
        tls: { enabled: true, certFile: '/etc/kp/node.pem', keyFile: '/etc/kp/node.key', passphrase: 'nøkkel-passord', caFile: '/etc/kp/ca.pem' },
      }),
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('prints the effective configuration with tokens, passphrases and the MongoDB password masked', async () => {
    const res = await cli(['check-config', file], { env: { LOG_LEVEL: 'debug' } });
    expect(res.code).to.equal(0);
    expect(res.stderr).to.equal(`configuration ${file} is valid; environment overrides: LOG_LEVEL\n`);
    for (const secret of [BLOCKS_TOKEN, ACCESS_TOKEN, 'hemmelig-passord', 'nøkkel-passord']) expect(res.stdout).to.not.contain(secret);
    const config = JSON.parse(res.stdout) as {
      port: number;
      logLevel: string;
      mongoUri: string;
      trust: { blocksApi: { token: string } };
      audit: { accessLog: { token: string } };
      tls: { passphrase: string; keyFile: string };
      repository: { repositoryUniqueId: string };
    };
    expect(config.port).to.equal(8443);
    expect(config.logLevel).to.equal('debug');
    expect(config.mongoUri).to.equal('mongodb://koblingspunkt:****@db1.example:27017,db2.example:27017/kp?authSource=admin&replicaSet=rs0');
    expect(config.trust.blocksApi.token).to.equal('****');
    expect(config.audit.accessLog.token).to.equal('****');
    expect(config.tls.passphrase).to.equal('****');
    // Paths of key files are not secrets; their contents are never read.
    expect(config.tls.keyFile).to.equal('/etc/kp/node.key');
    expect(config.repository.repositoryUniqueId).to.match(/^2\.25\./);
  });

  it('reads KOBLINGSPUNKT_CONFIG and --config like start does', async () => {
    expect((await cli(['check-config'], { env: { KOBLINGSPUNKT_CONFIG: file } })).stderr).to.contain(`configuration ${file} is valid`);
    expect((await cli(['check-config', '--config', file])).code).to.equal(0);
    const defaults = await cli(['check-config']);
    expect(defaults.code).to.equal(0);
    expect(defaults.stderr).to.equal('configuration (none: defaults) is valid\n');
  });

  it('an invalid file or environment value: one line naming it, exit 2', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ registry: { queryResultLimt: 10 } }));
    const res = await cli(['check-config', bad]);
    expect(res).to.include({ code: 2, stdout: '' });
    expect(res.stderr).to.equal("koblingspunkt check-config: invalid configuration: unknown key 'registry.queryResultLimt'\n");
    const env = await cli(['check-config', file], { env: { PORT: 'abc' } });
    expect(env.code).to.equal(2);
    expect(env.stderr).to.equal('koblingspunkt check-config: invalid configuration: PORT (overrides port): expected an integer 0–65535, got "abc"\n');
    const missing = await cli(['check-config', join(work, 'missing.json')]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/cannot read configuration file .*missing\.json/);
  });
});
