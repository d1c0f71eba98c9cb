import { expect } from 'chai';
import {
  adhocQueryResponse,
  parseAdhocQueryRequest,
  parseAdhocQueryResponse,
  parseRegistryResponse,
  registryResponse,
  serializeAdhocQueryRequest,
  serializeRegistryObjectList,
} from '../../registry/ebxml/index.js';
import { error, RegistryFailure, STATUS_URN, warning } from '../../registry/model/errors.js';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID, type StoredQueryRequest } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { childElement, childElements, descendants, type XmlElement } from '../../registry/xml/tree.js';
import { richSubmission } from './fixtures.js';
import { nhnSample } from '../../fixtures/index.js';

const throughXml = (e: XmlElement): XmlElement => parseXml(serializeXml(e));
const sample = (name: string, local: string, ns: string): XmlElement =>
  descendants(parseXml(nhnSample(name)), ns, local)[0]!;

function failureCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(RegistryFailure);
    return (e as RegistryFailure).errors[0]!.code;
  }
  throw new Error('expected a RegistryFailure');
}

function registryObjects(): RegistryObject[] {
  const s = richSubmission();
  return [...s.documentEntries, s.submissionSet, ...s.folders, ...s.associations];
}

describe('ebxml AdhocQueryRequest', () => {
  it('reads the NHN ITI-18 and ITI-38 requests', () => {
    const iti18 = parseAdhocQueryRequest(sample('IT_iti-18_request.xml', 'AdhocQueryRequest', NS.query));
    expect(iti18.queryId).to.equal(STORED_QUERY_ID.FindDocuments);
    expect(['LeafClass', 'ObjectRef']).to.include(iti18.returnType);
    expect(iti18.parameters.map((p) => p.name)).to.include('$XDSDocumentEntryPatientId');
    const iti38 = parseAdhocQueryRequest(sample('iti38-iti40-request-hn.xml', 'AdhocQueryRequest', NS.query));
    expect(iti38.parameters.length).to.be.greaterThan(0);
    for (const p of iti38.parameters) expect(p.values.length).to.be.greaterThan(0);
  });

  it('round-trips a request with home, repeated parameters and raw quoted values', () => {
    const req: StoredQueryRequest = {
      queryId: STORED_QUERY_ID.FindDocuments,
      returnType: 'ObjectRef',
      homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.1',
      parameters: [
        { name: '$XDSDocumentEntryPatientId', values: ["'13116900216^^^&2.16.578.1.12.4.1.4.1&ISO'"] },
        { name: '$XDSDocumentEntryStatus', values: ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"] },
        { name: '$XDSDocumentEntryEventCodeList', values: ["('a^^s1')"] },
        { name: '$XDSDocumentEntryEventCodeList', values: ["('b^^s2')", "('c^^s3')"] },
      ],
    };
    const xml = serializeAdhocQueryRequest(req);
    expect(childElement(xml, NS.query, 'ResponseOption')!.attrs).to.deep.equal({ returnComposedObjects: 'true', returnType: 'ObjectRef' });
    expect(parseAdhocQueryRequest(throughXml(xml))).to.deep.equal(req);
  });

  it('fails with XDSRegistryError on an unsupported returnType or a missing AdhocQuery', () => {
    const q = (inner: string) => parseXml(`<q:AdhocQueryRequest xmlns:q="${NS.query}" xmlns:rim="${NS.rim}">${inner}</q:AdhocQueryRequest>`);
    const query = `<rim:AdhocQuery id="${STORED_QUERY_ID.GetAll}"/>`;
    expect(failureCode(() => parseAdhocQueryRequest(q(`<q:ResponseOption returnType="RegistryObject"/>${query}`)))).to.equal('XDSRegistryError');
    expect(failureCode(() => parseAdhocQueryRequest(q(query)))).to.equal('XDSRegistryError');
    expect(failureCode(() => parseAdhocQueryRequest(q('<q:ResponseOption returnType="LeafClass"/>')))).to.equal('XDSRegistryError');
    expect(parseAdhocQueryRequest(q(`<q:ResponseOption returnType="LeafClass"/>${query}`))).to.deep.equal({
      queryId: STORED_QUERY_ID.GetAll,
      returnType: 'LeafClass',
      parameters: [],
    });
  });
});

describe('ebxml AdhocQueryResponse', () => {
  it('LeafClass: objects come back deep-equal', () => {
    const objects = registryObjects();
    const xml = adhocQueryResponse({ status: 'Success', errors: [], returnType: 'LeafClass', objects });
    expect(xml.attrs['status']).to.equal(STATUS_URN.Success);
    expect(childElement(xml, NS.rs, 'RegistryErrorList')).to.equal(undefined);
    const back = parseAdhocQueryResponse(throughXml(xml));
    expect(back).to.deep.equal({ status: 'Success', errors: [], objects, objectRefs: [] });
  });

  it('LeafClass: writes status URNs, home, lid, VersionInfo and the SubmissionSet classification', () => {
    const list = serializeRegistryObjectList(registryObjects(), 'LeafClass');
    const [eo] = childElements(list, NS.rim, 'ExtrinsicObject');
    expect(eo!.attrs).to.deep.include({
      status: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',
      home: 'urn:oid:2.16.578.1.12.4.5.100.1',
      lid: 'urn:uuid:5b0e8a8e-0a7e-4b0c-9c5e-3f3f3f3f3f3f',
    });
    expect(childElement(eo!, NS.rim, 'VersionInfo')!.attrs).to.deep.equal({ versionName: '1' });
    const ss = childElements(list, NS.rim, 'RegistryPackage')[0]!;
    const nodes = childElements(ss, NS.rim, 'Classification').map((c) => c.attrs['classificationNode']);
    expect(nodes).to.include('urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd');
  });

  it('ObjectRef: only ids and home, with errors and PartialSuccess', () => {
    const objects = registryObjects();
    const errors = [warning('XDSUnavailableCommunity', 'community 2 did not answer', 'urn:oid:1.2.3')];
    const xml = throughXml(adhocQueryResponse({ status: 'PartialSuccess', errors, returnType: 'ObjectRef', objects }));
    const refs = childElements(childElement(xml, NS.rim, 'RegistryObjectList')!);
    expect(refs.every((r) => r.ns === NS.rim && r.local === 'ObjectRef')).to.equal(true);
    const back = parseAdhocQueryResponse(xml);
    expect(back.status).to.equal('PartialSuccess');
    expect(back.errors).to.deep.equal(errors);
    expect(back.objects).to.deep.equal([]);
    expect(back.objectRefs).to.deep.equal(
      objects.map((o) => (o.homeCommunityId === undefined ? { id: o.entryUuid } : { id: o.entryUuid, home: o.homeCommunityId })),
    );
  });
});

describe('ebxml RegistryResponse', () => {
  it('writes errors with code, context, severity URN and location, and reads them back', () => {
    const errors = [
      error('XDSRegistryMetadataError', 'classCode appears 2 times', 'Document01'),
      warning('XDSExtraMetadataNotSaved', 'extra slot ignored'),
    ];
    const xml = registryResponse('Failure', errors);
    expect(xml).to.deep.include({ ns: NS.rs, local: 'RegistryResponse' });
    expect(xml.attrs['status']).to.equal('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure');
    const list = childElement(xml, NS.rs, 'RegistryErrorList')!;
    expect(list.attrs['highestSeverity']).to.equal('urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error');
    expect(childElements(list, NS.rs, 'RegistryError')[0]!.attrs).to.deep.equal({
      errorCode: 'XDSRegistryMetadataError',
      codeContext: 'classCode appears 2 times',
      severity: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error',
      location: 'Document01',
    });
    expect(parseRegistryResponse(throughXml(xml))).to.deep.equal({ status: 'Failure', errors });
  });

  it('a Success without errors has no RegistryErrorList', () => {
    const text = serializeXml(registryResponse('Success', []));
    expect(text).to.equal(`<rs:RegistryResponse xmlns:rs="${NS.rs}" status="${STATUS_URN.Success}"/>`);
  });

  it('keeps an error code it does not know in the message, and rejects an unknown status', () => {
    const xml = parseXml(
      `<rs:RegistryResponse xmlns:rs="${NS.rs}" status="${STATUS_URN.Failure}"><rs:RegistryErrorList>` +
        `<rs:RegistryError errorCode="XDSPolicyViolation" codeContext="no consent" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/>` +
        `</rs:RegistryErrorList></rs:RegistryResponse>`,
    );
    expect(parseRegistryResponse(xml).errors).to.deep.equal([{ code: 'XDSRegistryError', message: 'XDSPolicyViolation: no consent', severity: 'Error' }]);
    expect(failureCode(() => parseRegistryResponse(parseXml(`<rs:RegistryResponse xmlns:rs="${NS.rs}" status="Success"/>`)))).to.equal('XDSRegistryError');
  });
});
