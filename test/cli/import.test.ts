/**
 * `koblingspunkt import`: a folder registered file by file, patients from a CSV map; a file the
 * registry refuses is reported with its IHE error code and fails the run; a rerun skips what is
 * registered, and one after the map is fixed finishes the import. A file an interrupted run left
 * pending (sent, answer lost) is not registered twice.
 */
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATE_FILE } from '../../connector/cli/import-state.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { cli, cliProcess, SAMPLE_PDF } from './helpers.js';

const KARI = '13116900216';
const OLA = '12057900499';
const BAD_CHECK_DIGIT = '01017012344';

interface Summary {
  registered: { file: string; uniqueId: string; patientId: string }[];
  skipped: { file: string; uniqueId: string }[];
  failed: { file: string; codes: string[]; message: string }[];
}

describe('koblingspunkt import', function () {
  this.timeout(60_000);
  let node: TestNode;
  let work: string;
  let folder: string;
  let map: string;

  const writeMap = (rows: readonly [string, string][]): void => {
    writeFileSync(map, ['fil;pasient', ...rows.map(([f, p]) => `${f};${p}`)].join('\r\n') + '\r\n');
  };
  const documentsOf = async (fnr: string) =>
    (JSON.parse((await cli(['query', '--patient', fnr, '--url', node.url, '--json'])).stdout) as { documents: { uniqueId: string; title: string }[] }).documents;

  before(async () => {
    node = await startTestNode();
    work = mkdtempSync(join(tmpdir(), 'kp-cli-import-'));
    folder = join(work, 'skann');
    mkdirSync(folder);
    copyFileSync(SAMPLE_PDF, join(folder, 'epikrise-kari.pdf'));
    writeFileSync(join(folder, 'notat ola.txt'), 'Journalnotat: kontroll om tre måneder.\n');
    copyFileSync(SAMPLE_PDF, join(folder, 'feil-pasient.pdf'));
    map = join(work, 'pasienter.csv');
    writeMap([
      ['epikrise-kari.pdf', KARI],
      ['notat ola.txt', `${OLA}^^^&2.16.578.1.12.4.1.4.1&ISO`],
      ['feil-pasient.pdf', BAD_CHECK_DIGIT],
    ]);
  });
  after(async () => {
    await node?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('registers each file for its patient; the one with a bad check digit fails with XDSUnknownPatientId, exit 1', async () => {
    const res = await cliProcess(['import', folder, '--patient-map', map, '--url', node.url]);
    expect(res.code).to.equal(1);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).to.equal('registered 2, skipped 0 (already registered), failed 1');
    expect(lines.slice(1)).to.have.length(1);
    expect(lines[1]).to.match(/^ {2}FAILED feil-pasient\.pdf: XDSUnknownPatientId: /);
    // No progress bar: stderr is not a terminal.
    expect(res.stderr).to.equal('');
    expect((await documentsOf(KARI)).map((d) => d.title)).to.deep.equal(['epikrise-kari']);
    expect((await documentsOf(OLA)).map((d) => d.title)).to.deep.equal(['notat ola']);
  });

  it('a rerun skips the registered files and reports the failing one again', async () => {
    const res = await cli(['import', folder, '--patient-map', map, '--url', node.url, '--json']);
    expect(res.code).to.equal(1);
    const summary = JSON.parse(res.stdout) as Summary;
    expect(summary.registered).to.deep.equal([]);
    expect(summary.skipped.map((s) => s.file)).to.deep.equal(['epikrise-kari.pdf', 'notat ola.txt']);
    expect(summary.failed.map((f) => [f.file, f.codes])).to.deep.equal([['feil-pasient.pdf', ['XDSUnknownPatientId']]]);
    expect(await documentsOf(KARI)).to.have.length(1);
  });

  it('after the map is fixed, a rerun registers only the missing file, exit 0', async () => {
    writeMap([
      ['epikrise-kari.pdf', KARI],
      ['notat ola.txt', OLA],
      ['feil-pasient.pdf', KARI],
    ]);
    const res = await cli(['import', folder, '--patient-map', map, '--url', node.url, '--json']);
    expect(res.stderr).to.equal('');
    expect(res.code).to.equal(0);
    const summary = JSON.parse(res.stdout) as Summary;
    expect(summary.registered.map((r) => r.file)).to.deep.equal(['feil-pasient.pdf']);
    expect(summary.skipped).to.have.length(2);
    expect(summary.failed).to.deep.equal([]);
    expect((await documentsOf(KARI)).map((d) => d.title).sort()).to.deep.equal(['epikrise-kari', 'feil-pasient']);
  });

  it('a file left pending by an interrupted run is recorded, not sent again, when the registry has it', async () => {
    // What a run killed after sending, before writing "registered", leaves behind.
    const pendingFolder = join(work, 'avbrutt');
    mkdirSync(pendingFolder);
    const file = join(pendingFolder, 'sendt.pdf');
    copyFileSync(SAMPLE_PDF, file);
    const sent = await cli(['register', file, '--patient', OLA, '--url', node.url]);
    const uniqueId = sent.stdout.trim();
    const s = statSync(file);
    appendFileSync(
      join(pendingFolder, STATE_FILE),
      `${JSON.stringify({ file: 'sendt.pdf', status: 'pending', uniqueId, patientId: `${OLA}^^^&2.16.578.1.12.4.1.4.1&ISO`, size: s.size, mtimeMs: s.mtimeMs, at: new Date().toISOString() })}\n`,
    );
    const pendingMap = join(work, 'avbrutt.csv');
    writeFileSync(pendingMap, `sendt.pdf,${OLA}\n`);
    const res = await cli(['import', pendingFolder, '--patient-map', pendingMap, '--url', node.url, '--json']);
    expect(res.code).to.equal(0);
    const summary = JSON.parse(res.stdout) as Summary;
    expect(summary.registered).to.deep.equal([]);
    expect(summary.skipped).to.deep.equal([{ file: 'sendt.pdf', uniqueId }]);
    expect((await documentsOf(OLA)).filter((d) => d.uniqueId === uniqueId)).to.have.length(1);
    expect(readFileSync(join(pendingFolder, STATE_FILE), 'utf8')).to.contain('"status":"registered"');
  });

  it('draws a progress bar on a terminal, and only there', async () => {
    const ttyFolder = join(work, 'terminal');
    mkdirSync(ttyFolder);
    copyFileSync(SAMPLE_PDF, join(ttyFolder, 'b.pdf'));
    const ttyMap = join(work, 'terminal.csv');
    writeFileSync(ttyMap, `b.pdf,${KARI}\n`);
    const res = await cli(['import', ttyFolder, '--patient-map', ttyMap, '--url', node.url], { tty: true });
    expect(res.code).to.equal(0);
    expect(res.stderr).to.contain('importing [');
    expect(res.stdout).to.equal('registered 1, skipped 0 (already registered), failed 0\n');
  });

  it('a file without a patient in the map fails alone; bad arguments are usage errors', async () => {
    const lonely = join(work, 'uten-kart');
    mkdirSync(lonely);
    copyFileSync(SAMPLE_PDF, join(lonely, 'a.pdf'));
    const emptyMap = join(work, 'tom.csv');
    writeFileSync(emptyMap, 'file,patient\n');
    const res = await cli(['import', lonely, '--patient-map', emptyMap, '--url', node.url]);
    expect(res.code).to.equal(1);
    expect(res.stdout).to.contain('FAILED a.pdf: no patient for it in the patient map');
    expect((await cli(['import', lonely, '--url', node.url])).code).to.equal(2);
    expect((await cli(['import', join(work, 'finnes-ikke'), '--patient-map', emptyMap, '--url', node.url])).code).to.equal(2);
  });
});
