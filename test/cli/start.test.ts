/**
 * `koblingspunkt start` is `npm start` (package.json runs it): the same start log, the same exit
 * codes and messages as connector/main.ts, on which test/connector/start.test.ts checks the rest.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../fixtures/index.js';
import { CLI_MAIN, cliProcess, TSX } from './helpers.js';

describe('koblingspunkt start', function () {
  this.timeout(60_000);
  let work: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kp-cli-start-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('is what npm start runs', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string }; bin: Record<string, string> };
    expect(pkg.bin.koblingspunkt).to.equal('dist/connector/cli/main.js');
    expect(pkg.scripts.start.endsWith(' dist/connector/cli/main.js start')).to.equal(true);
    expect(readFileSync(CLI_MAIN, 'utf8').startsWith('#!/usr/bin/env node\n')).to.equal(true);
  });

  it('starts a node from a configuration file and the environment, logs its start, stops on SIGTERM with 0', async () => {
    const config = join(work, 'node.json');
    writeFileSync(config, JSON.stringify({ host: '127.0.0.1', homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1' }));
    const child = spawn(process.execPath, ['--import', TSX, CLI_MAIN, 'start', '--config', config], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '', PORT: '0', DATA_DIR: join(work, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const messages: string[] = [];
    let port = 0;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (text) => {
        const line = JSON.parse(text) as { message: string; port?: number };
        messages.push(line.message);
        if (line.message.startsWith('listening on ')) port = line.port ?? 0;
        if (line.message.startsWith('repositoryUniqueId is the quick-start demo default')) resolve();
      });
      void exited.then((code) => reject(new Error(`exited with ${code} before it had started`)));
    });
    expect(messages).to.include(`configuration file: ${config}`);
    expect(messages).to.include('environment overrides: PORT, DATA_DIR');
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await health.json()).to.deep.equal({ status: 'ok' });
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(messages.some((m) => m.startsWith('stopping on SIGTERM: requests in flight get up to'))).to.equal(true);
  });

  it('a bad environment value: the message npm start always gave, exit 2', async () => {
    const res = await cliProcess(['start'], { env: { PORT: 'abc', DATA_DIR: join(work, 'bad') }, cwd: work });
    expect(res.code).to.equal(2);
    expect(res.stderr).to.equal('koblingspunkt: invalid configuration: PORT (overrides port): expected an integer 0–65535, got "abc"\n');
  });

  it('an unknown option: exit 2 with the usage', async () => {
    const res = await cliProcess(['start', '--port', '1'], { cwd: work });
    expect(res.code).to.equal(2);
    expect(res.stderr).to.match(/^koblingspunkt: Unknown option '--port'.*\nusage: koblingspunkt start \[--config FILE\]/s);
  });
});
