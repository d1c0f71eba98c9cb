/**
 * deploy/koblingspunkt.service is a unit systemd accepts, and it starts the node the way
 * `npm start` does (docs/operations.md, "Running it").
 *
 * `systemd-analyze verify` checks the unit: every key known in its section, every value parseable,
 * the ExecStart binary executable. It only WARNS about an unknown key or a bad value (exit code 0,
 * the line ignored), and a unit whose hardening line is silently ignored is a unit that runs
 * unhardened, so any line it prints about the unit counts as a failure here. It also refuses a
 * unit whose ExecStart binary does not exist, and /usr/bin/node need not exist on the machine
 * that runs the tests: the unit is verified as a copy whose /usr/bin/node is this process's node
 * and whose /opt, /etc and /var/lib paths are temporary directories that exist. Broken copies
 * show that the check refuses what it should (a pass must not come from a check that cannot fail).
 *
 * systemd-analyze comes with systemd (Debian and Ubuntu: the `systemd` package). Where it is
 * missing the test fails and says so; it is never skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../../fixtures/index.js';

const UNIT_FILE = join(REPO_ROOT, 'deploy', 'koblingspunkt.service');
const UNIT_NAME = 'koblingspunkt.service';

/** The paths the unit names, as installed (docs/operations.md). */
const NODE_BINARY = '/usr/bin/node';
const INSTALL_DIR = '/opt/koblingspunkt';
const CONFIG_DIR = '/etc/koblingspunkt';
const DATA_DIR = '/var/lib/koblingspunkt';

interface Verdict {
  /** Exit status of systemd-analyze verify. */
  readonly status: number | null;
  /** Every line it printed about our unit (warnings included), and everything when it failed. */
  readonly problems: readonly string[];
}

/** systemd-analyze, or a failure that says how to get it (`env`: the environment it is looked up in). */
function systemdAnalyze(env: NodeJS.ProcessEnv = process.env): string {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8', env });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'systemd-analyze is not installed (or does not run): install the `systemd` package ' +
        '(apt-get install systemd) to verify deploy/koblingspunkt.service' +
        (probe.error ? ` (${probe.error.message})` : ` (exit ${probe.status}: ${probe.stderr.trim()})`),
    );
  }
  return 'systemd-analyze';
}

/** The values of one key in the unit text, in order (a key may repeat; the unit has no continuation lines). */
function values(unit: string, key: string): string[] {
  return unit
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/**
 * A temporary installation for the unit: the text with the binary and the three directories
 * replaced by ones that exist here, written as <dir>/koblingspunkt.service (the unit's name comes
 * from its file name).
 */
function installCopy(dir: string, unit: string): string {
  const opt = join(dir, 'opt');
  const etc = join(dir, 'etc');
  const data = join(dir, 'var-lib');
  mkdirSync(opt, { recursive: true });
  mkdirSync(etc, { recursive: true });
  mkdirSync(data, { recursive: true });
  // The script the unit runs, under the temporary installation (verify does not need it; a real start would).
  const script = /^ExecStart=\S+ .*?\/opt\/koblingspunkt\/(\S+\.js)/m.exec(unit)?.[1];
  if (script !== undefined) {
    mkdirSync(dirname(join(opt, script)), { recursive: true });
    writeFileSync(join(opt, script), '// stands in for the compiled node\n');
  }
  writeFileSync(join(etc, 'node.json'), '{}\n');
  const text = unit
    .replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `)
    .replaceAll(INSTALL_DIR, opt)
    .replaceAll(CONFIG_DIR, etc)
    .replaceAll(DATA_DIR, data);
  const path = join(dir, UNIT_NAME);
  writeFileSync(path, text);
  return path;
}

function verify(tool: string, unitPath: string): Verdict {
  const run = spawnSync(tool, ['verify', '--man=no', '--generators=no', unitPath], { encoding: 'utf8', timeout: 20_000 });
  if (run.error !== undefined) throw run.error;
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  // Lines about other units (the targets ours is ordered after, loaded from the host) are not ours
  // to judge, unless verify failed: then everything it said is shown.
  const problems = run.status === 0 ? lines.filter((l) => l.includes(UNIT_NAME)) : lines;
  return { status: run.status, problems };
}

describe('deploy/koblingspunkt.service (systemd-analyze verify)', function () {
  this.timeout(20_000);
  const unit = readFileSync(UNIT_FILE, 'utf8');
  let tool: string;
  let dir: string;

  before(() => {
    tool = systemdAnalyze();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-systemd-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a machine without systemd-analyze fails the test with how to install it, rather than skipping it', () => {
    expect(() => systemdAnalyze({ ...process.env, PATH: join(dir, 'no-such-bin') })).to.throw(/install the `systemd` package/);
  });

  it('is accepted without a single warning', () => {
    const verdict = verify(tool, installCopy(dir, unit));
    expect(verdict.problems, verdict.problems.join('\n')).to.deep.equal([]);
    expect(verdict.status).to.equal(0);
  });

  it('a broken copy is refused: a binary that does not exist', () => {
    const broken = unit.replace(/^ExecStart=\/usr\/bin\/node /m, 'ExecStart=/nonexistent/bin/node ');
    expect(broken).to.not.equal(unit);
    const verdict = verify(tool, installCopy(dir, broken));
    expect(verdict.status).to.not.equal(0);
    expect(verdict.problems.join('\n')).to.include('/nonexistent/bin/node');
  });

  it('a broken copy is refused: a misspelt hardening key and a bad value, which systemd only warns about', () => {
    const misspelt = unit.replace(/^ProtectSystem=strict$/m, 'ProtectSytem=strict');
    expect(misspelt).to.not.equal(unit);
    const one = verify(tool, installCopy(dir, misspelt));
    expect(one.problems.join('\n')).to.match(/ProtectSytem/);

    const badValue = unit.replace(/^Type=exec$/m, 'Type=exce');
    expect(badValue).to.not.equal(unit);
    const two = verify(tool, installCopy(dir, badValue));
    expect(two.problems.join('\n')).to.match(/exce/);
  });

  it('starts the node as `npm start` does, with the documented paths, user and restart policy', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    // `node <flags> dist/….js [command]` in package.json; the unit runs the same on the installed file,
    // with the installed configuration.
    const start = /^node (.*?)(dist\/\S+\.js)(.*)$/.exec(pkg.scripts.start);
    expect(start, `package.json start script: ${pkg.scripts.start}`).to.not.equal(null);
    const [, flags, script, command] = start!;
    expect(values(unit, 'ExecStart')).to.deep.equal([
      `${NODE_BINARY} ${flags}${INSTALL_DIR}/${script}${command} --config ${CONFIG_DIR}/node.json`,
    ]);
    expect(values(unit, 'User')).to.deep.equal(['koblingspunkt']);
    expect(values(unit, 'WorkingDirectory')).to.deep.equal([INSTALL_DIR]);
    expect(values(unit, 'Environment')).to.include(`DATA_DIR=${DATA_DIR}`);
    expect(values(unit, 'StateDirectory')).to.deep.equal(['koblingspunkt']);
    expect(values(unit, 'ReadWritePaths')).to.deep.equal([DATA_DIR]);
    // The node does not speak sd_notify (connector/main.ts).
    expect(values(unit, 'Type')).to.deep.equal(['exec']);
    expect(values(unit, 'Restart')).to.deep.equal(['on-failure']);
    // Exit code 2 is a configuration error (connector/main.ts): restarting cannot fix it.
    expect(values(unit, 'RestartPreventExitStatus')).to.deep.equal(['2']);
    expect(values(unit, 'NoNewPrivileges')).to.deep.equal(['yes']);
    expect(values(unit, 'ProtectSystem')).to.deep.equal(['strict']);
    expect(values(unit, 'CapabilityBoundingSet')).to.deep.equal(['']);
  });
});
