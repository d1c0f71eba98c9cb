/** The benchmark's repository requests and the helpers of its cold and document lines. */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { parseMediaType } from '../../connector/soap/media-type.js';
import { parseMultipartRelated } from '../../connector/soap/mime.js';
import { parseSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import { createPatientIdPolicy } from '../../registry/patients.js';
import { validateSubmission } from '../../registry/validate/index.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { childElement, childElements, textContent } from '../../registry/xml/tree.js';
import { BENCH_REPOSITORY, benchDocument, provideRequest, retrieveRequest } from '../../scripts/bench/documents.js';
import { benchPatient, coldPatients, countOpenTags } from '../../scripts/bench/requests.js';
import { createWorld } from '../../scripts/generate/patient.js';
import { MAX_UNIQUE_PATIENTS } from '../../scripts/generate/norway.js';
import { ACTIONS } from '../helpers/soap.js';

describe('benchmark repository requests and line helpers', () => {
  it('ITI-41: an MTOM message whose part is the document and whose metadata is a valid submission, fresh ids per request', () => {
    const patient = benchPatient(createWorld(1), MAX_UNIQUE_PATIENTS - 2).patientId;
    const document = benchDocument(20 * 1024);
    const [a, b] = [provideRequest('http://127.0.0.1/xds/repository', patient, document), provideRequest('http://127.0.0.1/xds/repository', patient, document)];
    expect(a.documentUniqueId).to.not.equal(b.documentUniqueId);
    const message = parseMultipartRelated(a.body, parseMediaType(a.contentType), { maxParts: 4 });
    expect(message.action).to.equal(ACTIONS.iti41.request);
    const part = message.attachments.get('doc1@bench');
    expect(part?.data?.equals(document)).to.equal(true);
    const pnr = childElements(childElement(parseXml(message.envelope), NS.soap12, 'Body')!)[0]!;
    const submission = parseSubmitObjectsRequest(childElement(pnr, NS.lcm, 'SubmitObjectsRequest')!);
    expect(submission.documentEntries.map((d) => [d.uniqueId, d.patientId])).to.deep.equal([[a.documentUniqueId, patient]]);
    // Valid once the repository has added what it computes (hash, size, its uniqueId).
    const stored = {
      ...submission,
      documentEntries: submission.documentEntries.map((d) => ({ ...d, hash: createHash('sha1').update(document).digest('hex'), size: String(document.length), repositoryUniqueId: BENCH_REPOSITORY })),
    };
    expect(validateSubmission(stored, { patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }) })).to.deep.equal([]);
  });

  it('ITI-43: names this repository and the document', () => {
    const body = childElements(childElement(parseXml(retrieveRequest('http://x/xds/repository', '1.2.3')), NS.soap12, 'Body')!)[0]!;
    expect(textContent(body).replace(/\s+/g, '')).to.equal(`${BENCH_REPOSITORY}1.2.3`);
  });

  it('documents are deterministic and do not repeat a short pattern', () => {
    const d = benchDocument(4096);
    expect(d.equals(benchDocument(4096))).to.equal(true);
    expect(d.subarray(0, 64).equals(d.subarray(64, 128))).to.equal(false);
  });

  it('the cold walk visits distinct patients spread over the whole store', () => {
    const walk = coldPatients(26_882, 5000);
    expect(new Set(walk).size).to.equal(5000);
    expect(walk.every((i) => Number.isInteger(i) && i >= 0 && i < 26_882)).to.equal(true);
    // Neighbours are far apart, and the walk reaches both ends of the store.
    expect(Math.abs(walk[1]! - walk[0]!)).to.be.greaterThan(1000);
    expect(Math.min(...walk)).to.be.lessThan(100);
    expect(Math.max(...walk)).to.be.greaterThan(26_700);
    // A small store: every patient once, then the walk would repeat.
    expect([...coldPatients(265, 5000)].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 265 }, (_, i) => i));
    expect(coldPatients(1, 3)).to.deep.equal([0]);
  });

  it('counts opening tags with or without a prefix, not closing tags or look-alikes', () => {
    const xml = Buffer.from('<a:ExtrinsicObject id="1"></a:ExtrinsicObject><ExtrinsicObject id="2"/><a:ExtrinsicObjectX id="3"/><v>ExtrinsicObject x</v>');
    expect(countOpenTags(xml, 'ExtrinsicObject')).to.equal(2);
  });
});
