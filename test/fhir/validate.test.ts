/**
 * Validation of ITI-65 requests: every error path gives a located issue with its XDS code, never
 * an exception; FHIR R4 structure through @medplum/core; the definitions load once.
 */
import { expect } from 'chai';
import { fhirDefinitionsLoadTime, loadFhirDefinitions, mhdProvideBundleIssues, parseFhirJson, validateFhirResource, validateProvideBundle } from '../../connector/fhir/mapping/validate.js';
import type { MhdIssue } from '../../connector/fhir/mapping/issues.js';
import { minimalBundle, nhnBundle, type Json } from './bundles.js';

function errors(input: unknown): MhdIssue[] {
  return validateProvideBundle(input as Json).issues.filter((i) => i.severity !== 'warning');
}

function codesAt(issues: readonly MhdIssue[]): [string, string][] {
  return issues.map((i) => [i.code, i.location]);
}

describe('FHIR validation of ITI-65 requests', () => {
  before(function () {
    this.timeout(60_000);
    loadFhirDefinitions();
  });

  it('loads the R4 definitions once and reports how long that took', () => {
    const first = fhirDefinitionsLoadTime();
    expect(first).to.be.a('number').and.to.be.greaterThan(0);
    expect(loadFhirDefinitions()).to.equal(first);
  });

  it('accepts NHN\'s sample and the node\'s own Bundle, with only warnings for what Comprehensive lacks', () => {
    const nhn = validateProvideBundle(JSON.stringify(nhnBundle()));
    expect(nhn.ok).to.equal(true);
    expect(nhn.issues.every((i) => i.severity === 'warning')).to.equal(true);
    expect(nhn.issues.map((i) => i.location)).to.include('Bundle.entry[2].resource.content[0].attachment.language');
    const own = validateProvideBundle(Buffer.from(JSON.stringify(minimalBundle())));
    expect(own.issues).to.deep.equal([]);
    expect(own.ok).to.equal(true);
  });

  it('malformed JSON and bytes that are not UTF-8', () => {
    const bad = validateProvideBundle('{"resourceType": "Bundle", ');
    expect(bad.ok).to.equal(false);
    expect(bad.issues).to.have.length(1);
    expect(bad.issues[0]).to.deep.include({ code: 'XDSRegistryMetadataError', location: '', issueType: 'structure' });
    expect(bad.issues[0]!.message).to.match(/^the request body is not valid JSON/);
    expect('issues' in parseFhirJson(Buffer.from([0x7b, 0xff, 0x7d]))).to.equal(true);
  });

  it('a resource that is not a Bundle, and values that are no resource at all', () => {
    expect(codesAt(errors({ resourceType: 'DocumentReference', status: 'current', content: [] }))).to.deep.equal([['XDSRegistryMetadataError', '']]);
    expect(errors({ resourceType: 'DocumentReference' })[0]!.message).to.equal('expected a Bundle, got a DocumentReference');
    for (const junk of [null, 42, '[]', 'null', [], {}, { resourceType: 7 }]) {
      const v = validateProvideBundle(junk as Json);
      expect(v.ok, JSON.stringify(junk)).to.equal(false);
    }
  });

  it('a resource of an unknown type inside the Bundle', () => {
    const b = nhnBundle();
    b.entry[1].resource = { resourceType: 'Pasient', id: 'x' };
    const found = errors(b);
    expect(found.some((i) => i.code === 'XDSRegistryMetadataError' && /Pasient/.test(i.message))).to.equal(true);
  });

  it('a FHIR R4 structure error, located in the Bundle', () => {
    const b = nhnBundle();
    b.entry[2].resource.content[0].attachment.kontentType = 'application/xml';
    b.entry[2].resource.date = '21.04.2026';
    expect(codesAt(errors(b))).to.have.deep.members([
      ['XDSRegistryMetadataError', 'Bundle.entry[2].resource.content[0].attachment.kontentType'],
      ['XDSRegistryMetadataError', 'Bundle.entry[2].resource.date'],
    ]);
  });

  it('Bundle.type other than transaction', () => {
    const b = nhnBundle();
    b.type = 'batch';
    expect(codesAt(errors(b))).to.deep.equal([['XDSRegistryMetadataError', 'Bundle.type']]);
  });

  it('no SubmissionSet, or two', () => {
    const none = nhnBundle();
    none.entry[0].resource.code.coding[0].code = 'changes';
    expect(codesAt(errors(none))).to.deep.equal([['XDSRegistryMetadataError', 'Bundle.entry']]);
    expect(errors(none)[0]!.message).to.equal('the Bundle has no SubmissionSet (a List with code submissionset)');
    const two = nhnBundle();
    two.entry.push({ ...two.entry[0], fullUrl: 'urn:uuid:3d2c1b0a-0000-4000-8000-000000000001' });
    expect(codesAt(errors(two))).to.deep.equal([['XDSRegistryMetadataError', 'Bundle.entry[4]']]);
  });

  it('a DocumentReference the SubmissionSet does not reference', () => {
    const b = nhnBundle();
    b.entry[0].resource.entry = [];
    expect(codesAt(errors(b))).to.deep.equal([['XDSRegistryMetadataError', 'Bundle.entry[2]']]);
    expect(errors(b)[0]!.message).to.equal('DocumentReference urn:uuid:00136637-d4a1-4dab-8460-994dd2a82aa4 is not an entry of the SubmissionSet');
  });

  it('a SubmissionSet entry that resolves to nothing', () => {
    const b = nhnBundle();
    b.entry[0].resource.entry.push({ item: { reference: 'urn:uuid:99999999-9999-4999-8999-999999999999' } });
    expect(codesAt(errors(b))).to.deep.equal([['UnresolvedReferenceException', 'Bundle.entry[0].resource.entry[1].item']]);
  });

  it('bad base64 in Binary.data and in attachment.data', () => {
    const binary = nhnBundle();
    binary.entry[3].resource.data = 'PD94bWwg!!!';
    // FHIR R4 structure says the same at the same place; the MHD issue, with its XDS code, is the one kept.
    expect(codesAt(errors(binary))).to.deep.equal([['XDSMissingDocument', 'Bundle.entry[3].resource.data']]);
    const inline = minimalBundle();
    inline.entry[1].resource.content[0].attachment.data = 'SGVsbG8'; // unpadded
    expect(codesAt(errors(inline))).to.deep.equal([['XDSMissingDocument', 'Bundle.entry[1].resource.content[0].attachment.data']]);
  });

  it('a missing Binary, an attachment without url or data, a Binary nobody references', () => {
    const missing = nhnBundle();
    missing.entry.splice(3, 1);
    expect(codesAt(errors(missing))).to.deep.equal([['XDSMissingDocument', 'Bundle.entry[2].resource.content[0].attachment.url']]);
    const empty = nhnBundle();
    delete empty.entry[2].resource.content[0].attachment.url;
    expect(codesAt(errors(empty))).to.deep.include(['XDSMissingDocument', 'Bundle.entry[2].resource.content[0].attachment']);
    expect(codesAt(errors(empty))).to.deep.include(['XDSMissingDocumentMetadata', 'Bundle.entry[3]']);
    const noData = nhnBundle();
    delete noData.entry[3].resource.data;
    expect(codesAt(errors(noData))).to.deep.equal([['XDSMissingDocument', 'Bundle.entry[3].resource.data']]);
  });

  it('one Binary as the document of two DocumentReferences, and a FHIR document Bundle as a document', () => {
    const b = minimalBundle();
    b.entry[1].resource.content[0].attachment = { ...b.entry[3].resource.content[0].attachment };
    expect(codesAt(errors(b))).to.deep.equal([['XDSRepositoryMetadataError', 'Bundle.entry[3].resource.content[0].attachment.url']]);
    expect(errors(b)[0]!.message).to.equal('the Binary at Bundle.entry[4] is already the document of the DocumentReference at Bundle.entry[1]');
    const doc = nhnBundle();
    doc.entry[3].resource = { resourceType: 'Bundle', type: 'document' };
    const found = errors(doc);
    expect(found.map((i) => [i.code, i.issueType])).to.deep.include(['XDSRepositoryError', 'not-supported']);
  });

  it('Folder members and relatesTo targets must name DocumentReferences', () => {
    const b = minimalBundle();
    b.entry[5].resource.entry.push({ item: { reference: 'urn:uuid:0d3b9e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f' } });
    b.entry[1].resource.relatesTo[0].target = { reference: 'urn:uuid:12121212-1212-4121-8121-121212121212' };
    expect(codesAt(errors(b))).to.deep.equal([
      ['XDSRegistryMetadataError', 'Bundle.entry[5].resource.entry[2].item'],
      ['UnresolvedReferenceException', 'Bundle.entry[1].resource.relatesTo[0].target'],
    ]);
  });

  it('duplicate fullUrls and entries without a resource', () => {
    const b = nhnBundle();
    b.entry[1].fullUrl = b.entry[3].fullUrl;
    b.entry.push({ request: { method: 'POST', url: 'Binary' } });
    expect(codesAt(mhdProvideBundleIssues(b).filter((i) => i.severity !== 'warning'))).to.deep.include.members([
      ['XDSRegistryMetadataError', 'Bundle.entry[3].fullUrl'],
      ['XDSRegistryMetadataError', 'Bundle.entry[4].resource'],
    ]);
  });

  it('validates single resources at the location they are given', () => {
    expect(validateFhirResource({ resourceType: 'Patient', gender: 'female', birthDate: '13.11.1969' }, 'Bundle.entry[1].resource')).to.deep.equal([
      { code: 'XDSRegistryMetadataError', location: 'Bundle.entry[1].resource.birthDate', message: 'FHIR R4: Invalid date format', issueType: 'structure' },
    ]);
    expect(validateFhirResource('Patient')[0]!.message).to.equal('expected a FHIR resource, got a string');
  });
});
