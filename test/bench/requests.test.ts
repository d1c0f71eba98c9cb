/** The benchmark's requests are what the registry accepts: valid ITI-42 with fresh uniqueIds, well-formed queries. */
import { expect } from 'chai';
import { parseAdhocQueryRequest, parseSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import { createPatientIdPolicy } from '../../registry/patients.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { childElement, childElements, type XmlElement } from '../../registry/xml/tree.js';
import { validateSubmission } from '../../registry/validate/index.js';
import { percentile } from '../../scripts/bench/load.js';
import { benchPatient, findDocumentsBody, getDocumentsBody, registerOneDocument } from '../../scripts/bench/requests.js';
import { createWorld } from '../../scripts/generate/patient.js';
import { MAX_UNIQUE_PATIENTS } from '../../scripts/generate/norway.js';

function bodyOf(envelope: string): XmlElement {
  const body = childElement(parseXml(envelope), NS.soap12, 'Body');
  return childElements(body!)[0]!;
}

describe('benchmark requests', () => {
  const world = createWorld(1);

  it('ITI-42: a valid single-document submission with new uniqueIds and MessageID per request', () => {
    const next = registerOneDocument(world, 'http://127.0.0.1/xds/registry', MAX_UNIQUE_PATIENTS - 1, '17');
    const a = parseSubmitObjectsRequest(bodyOf(next(0)));
    const b = parseSubmitObjectsRequest(bodyOf(next(1)));
    expect(validateSubmission(a, { patientIds: createPatientIdPolicy({ acceptedAssigningAuthorities: [] }) })).to.deep.equal([]);
    expect(a.documentEntries).to.have.length(1);
    const ids = [a, b].flatMap((s) => [s.submissionSet.uniqueId, s.documentEntries[0]!.uniqueId]);
    expect(new Set(ids).size).to.equal(4);
    expect(next(0)).to.not.equal(next(0), 'each request carries its own wsa:MessageID');
  });

  it('FindDocuments and GetDocuments name the generated patient and its Approved entries', () => {
    const patient = benchPatient(world, 0);
    const find = parseAdhocQueryRequest(bodyOf(findDocumentsBody('http://x/', patient, 'ObjectRef')));
    expect(find.returnType).to.equal('ObjectRef');
    expect(find.parameters.find((p) => p.name === '$XDSDocumentEntryPatientId')?.values).to.deep.equal([`'${patient.patientId}'`]);
    expect(patient.approvedUniqueIds.length).to.be.greaterThan(0);
    const get = parseAdhocQueryRequest(bodyOf(getDocumentsBody('http://x/', patient.approvedUniqueIds.slice(0, 2))));
    expect(get.parameters[0]?.values[0]).to.equal(`('${patient.approvedUniqueIds[0]}','${patient.approvedUniqueIds[1]}')`);
  });

  it('percentile uses the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).to.equal(50);
    expect(percentile(xs, 99)).to.equal(99);
    expect(percentile([3], 99)).to.equal(3);
  });
});
