/**
 * register → query → retrieve against a started node, as a regional IT person runs them: the
 * document comes back byte for byte, checked against the hash and size it was registered with;
 * bytes that no longer match make retrieve fail and keep them aside.
 */
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { blobPath } from '../../repository/blob/filesystem/paths.js';
import { SMALL_BLOBS_FILE } from '../../repository/blob/filesystem/small-blobs.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { cli, cliProcess, hasStackTrace, SAMPLE_PDF } from './helpers.js';

const FNR = '13116900216';
const CX = `${FNR}^^^&2.16.578.1.12.4.1.4.1&ISO`;

describe('koblingspunkt register, query, retrieve', function () {
  this.timeout(60_000);
  let node: TestNode;
  let work: string;
  let uniqueId: string;
  const pdf = readFileSync(SAMPLE_PDF);

  before(async () => {
    node = await startTestNode();
    work = mkdtempSync(join(tmpdir(), 'kp-cli-'));
  });
  after(async () => {
    await node?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('register (the real program): prints the new uniqueId, exit 0', async () => {
    const res = await cliProcess(['register', SAMPLE_PDF, '--patient', FNR, '--title', 'Epikrise medisinsk avdeling'], { env: { KOBLINGSPUNKT_URL: node.url } });
    expect(res.stderr).to.equal('');
    expect(res.code).to.equal(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).to.have.length(1);
    uniqueId = lines[0]!;
    expect(uniqueId).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('registered it with Norwegian defaults, the computed hash and size, for the fødselsnummer as CX', async () => {
    const res = await cli(['query', '--patient', FNR, '--url', node.url, '--json']);
    expect(res.code).to.equal(0);
    const answer = JSON.parse(res.stdout) as { patientId: string; documents: Record<string, unknown>[] };
    expect(answer.patientId).to.equal(CX);
    expect(answer.documents).to.have.length(1);
    const d = answer.documents[0]!;
    expect(d).to.include({ uniqueId, title: 'Epikrise medisinsk avdeling', mimeType: 'application/pdf', size: pdf.length, status: 'Approved' });
    expect(d.hash).to.equal(createHash('sha1').update(pdf).digest('hex'));
    expect(d.repositoryUniqueId).to.equal(node.config.repository.repositoryUniqueId);
    expect(d.classCode).to.deep.equal({ code: 'A00-1', codingScheme: '2.16.578.1.12.4.1.1.9602', displayName: 'Epikriser og sammenfatninger' });
    expect(d.typeCode).to.deep.equal({ code: 'A03-2', codingScheme: '2.16.578.1.12.4.1.1.9602', displayName: 'Epikrise' });
    expect(d.confidentialityCodes).to.deep.equal([{ code: 'N', codingScheme: '2.16.578.1.12.4.1.1.9603', displayName: 'Normal' }]);
  });

  it('query prints a readable table with what retrieve needs', async () => {
    const res = await cli(['query', '--patient', CX], { env: { KOBLINGSPUNKT_URL: node.url } });
    expect(res.code).to.equal(0);
    const [header, row, ...rest] = res.stdout.trimEnd().split('\n');
    expect(rest).to.deep.equal([]);
    expect(header).to.match(/^uniqueId\s+title\s+class\s+created \(UTC\)\s+mime type\s+size\s+status\s+repositoryUniqueId$/);
    for (const cell of [uniqueId, 'Epikrise medisinsk avdeling', 'Epikriser og sammenfatninger', 'application/pdf', String(pdf.length), 'Approved', node.config.repository.repositoryUniqueId]) {
      expect(row).to.contain(cell);
    }
  });

  it('query of a patient without documents says so on stderr, exit 0', async () => {
    const res = await cli(['query', '--patient', '12057900499', '--url', node.url]);
    expect(res).to.include({ code: 0, stdout: '' });
    expect(res.stderr).to.equal('no documents for 12057900499^^^&2.16.578.1.12.4.1.4.1&ISO\n');
  });

  it('retrieve writes the identical bytes, verified, and prints the path', async () => {
    const out = join(work, 'out');
    const res = await cli(['retrieve', uniqueId, '-o', out, '--url', node.url]);
    expect(res.stderr).to.equal('');
    expect(res.code).to.equal(0);
    const file = join(out, `${uniqueId}.pdf`);
    expect(res.stdout).to.equal(`${file}\n`);
    expect(readFileSync(file).equals(pdf)).to.equal(true);
  });

  it('retrieve refuses to overwrite without --force', async () => {
    const out = join(work, 'out');
    const res = await cli(['retrieve', uniqueId, '-o', out, '--url', node.url]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.contain('exists (--force overwrites it)');
    expect((await cli(['retrieve', uniqueId, '-o', out, '--url', node.url, '--force'])).code).to.equal(0);
  });

  it('retrieve of an unknown uniqueId: one line, exit 1', async () => {
    const res = await cli(['retrieve', '2.16.578.1.12.4.5.100.1.999.1', '-o', work, '--url', node.url]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.equal('koblingspunkt retrieve: 2.16.578.1.12.4.5.100.1.999.1: no DocumentEntry with this uniqueId in the registry (or not visible to this user)\n');
  });

  it('retrieve of bytes that no longer match the registered hash: exit 1, kept as .mismatch', async () => {
    // Corrupt the stored document in place: the sample (59 KB) is a small document, a row of the
    // blob store's table (repository.smallDocumentBytes), not a file.
    expect(existsSync(blobPath(join(node.dataDir, 'documents'), uniqueId)), 'not a file').to.equal(false);
    const table = new Database(join(node.dataDir, 'documents', SMALL_BLOBS_FILE));
    table.pragma('busy_timeout = 10000');
    const overwrite = (bytes: Buffer): void => {
      const changed = table.prepare('UPDATE small_blob_bytes SET bytes = ? WHERE id = (SELECT id FROM small_blobs WHERE unique_id = ?)').run(bytes, uniqueId).changes;
      expect(changed).to.equal(1);
    };
    const corrupt = Buffer.from(pdf);
    corrupt[100] = corrupt[100]! ^ 0xff;
    overwrite(corrupt);
    const out = join(work, 'corrupt');
    const res = await cli(['retrieve', uniqueId, '-o', out, '--url', node.url, '--json']);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/does not match its DocumentEntry: SHA-1 [0-9a-f]{40}, registered [0-9a-f]{40}/);
    expect(hasStackTrace(res.stderr)).to.equal(false);
    const json = JSON.parse(res.stdout) as { documents: { verified: boolean; file: string }[] };
    expect(json.documents[0]).to.include({ verified: false, file: join(out, `${uniqueId}.pdf.mismatch`) });
    expect(existsSync(join(out, `${uniqueId}.pdf`))).to.equal(false);
    overwrite(pdf);
    table.close();
  });

  it('register of several files: one submission, one uniqueId per file; --json says what was sent', async () => {
    const text = join(work, 'notat.txt');
    writeFileSync(text, 'Pasienten er utskrevet i god form.\n');
    const res = await cli(['register', SAMPLE_PDF, text, '--patient', FNR, '--url', node.url, '--json', '--class', 'B00-1', '--type', 'B02-2']);
    expect(res.stderr).to.equal('');
    expect(res.code).to.equal(0);
    const json = JSON.parse(res.stdout) as { submissionSetUniqueId: string; documents: { file: string; uniqueId: string; mimeType: string; size: number }[] };
    expect(json.submissionSetUniqueId).to.match(/^2\.25\.\d+$/);
    expect(json.documents.map((d) => d.mimeType)).to.deep.equal(['application/pdf', 'text/plain']);
    const listed = JSON.parse((await cli(['query', '--patient', FNR, '--url', node.url, '--class', 'B00-1', '--json'])).stdout) as { documents: { uniqueId: string }[] };
    expect(listed.documents.map((d) => d.uniqueId).sort()).to.deep.equal(json.documents.map((d) => d.uniqueId).sort());
  });

  it('a RegistryError is one line with its IHE code, exit 1 (a fødselsnummer with a bad check digit)', async () => {
    const res = await cli(['register', SAMPLE_PDF, '--patient', '13116900217', '--url', node.url]);
    expect(res.code).to.equal(1);
    expect(res.stdout).to.equal('');
    expect(res.stderr).to.match(/^koblingspunkt register: ITI-41 Provide and Register failed: XDSUnknownPatientId: .*\n$/);
  });
});
