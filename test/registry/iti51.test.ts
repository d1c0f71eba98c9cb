/**
 * ITI-51 Multi-Patient Stored Query over real HTTP, trust off: documents and folders of three
 * patients registered with ITI-42 at a test node, then FindDocumentsForMultiplePatients and
 * FindFoldersForMultiplePatients at its registry endpoint (registry.multiPatientQuery enabled in
 * its configuration). Also: the required parameters, each transaction refusing the other's query
 * ids, the action refused while the setting is off (nodes of their own, with the same data), the
 * result limit, and the ITI-51 audit events.
 */
import { expect } from 'chai';
import { auditEvents, denialEvent } from '../../connector/audit/event.js';
import { toDicomXml } from '../../connector/audit/dicom.js';
import { parseConfig, ConfigError } from '../../connector/config.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { runStoredQuery } from '../../registry/query/index.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { cx, epikrise, errorCodes, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { auditRows } from '../wiring/helpers.js';
import { baseInput, dicomSchemaErrors, PATIENT_ID } from '../audit/fixtures.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
/** Three synthetic persons (valid fødselsnummer check digits). */
const FNR = { a: '13116900216', b: '12057900499', c: '01017012343' } as const;
const PATIENT = { a: cx(FNR.a), b: cx(FNR.b), c: cx(FNR.c) } as const;
const CLASS_EPIKRISE = 'A00-1^^2.16.578.1.12.4.1.1.9602';
const FOLDER_CODE = 'F-MPQ^^2.16.578.1.12.4.1.1.9602';
const APPROVED = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";
const DOCUMENT_PATIENT_SCHEME = 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427';
const FOLDER_PATIENT_SCHEME = 'urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a';

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const list = (...values: string[]): string => `(${values.map((v) => `'${v}'`).join(', ')})`;

/** The epikrise submission of one patient with a folder (code FOLDER_CODE) beside the document. */
function withFolder(patient: string): string {
  const folder =
    `<rim:RegistryPackage id="Folder01">` +
    `<rim:Name><rim:LocalizedString value="Oppfølging"/></rim:Name>` +
    `<rim:Classification id="clf1" classificationScheme="urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5" classifiedObject="Folder01" nodeRepresentation="F-MPQ">` +
    `<rim:Slot name="codingScheme"><rim:ValueList><rim:Value>2.16.578.1.12.4.1.1.9602</rim:Value></rim:ValueList></rim:Slot>` +
    `<rim:Name><rim:LocalizedString value="Oppfølging"/></rim:Name></rim:Classification>` +
    `<rim:ExternalIdentifier id="eif1" identificationScheme="${FOLDER_PATIENT_SCHEME}" registryObject="Folder01" value="${xmlEscape(patient)}">` +
    `<rim:Name><rim:LocalizedString value="XDSFolder.patientId"/></rim:Name></rim:ExternalIdentifier>` +
    `<rim:ExternalIdentifier id="eif2" identificationScheme="urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a" registryObject="Folder01" value="${uid()}">` +
    `<rim:Name><rim:LocalizedString value="XDSFolder.uniqueId"/></rim:Name></rim:ExternalIdentifier>` +
    `</rim:RegistryPackage>` +
    `<rim:Classification id="clf2" classifiedObject="Folder01" classificationNode="urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"/>` +
    `<rim:Association id="asf1" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SubmissionSet01" targetObject="Folder01"/>`;
  return epikrise({ patient }).xml.replace('</rim:RegistryObjectList>', `${folder}</rim:RegistryObjectList>`);
}

/** An AdhocQueryRequest with the given slots, each value written as given. */
function queryBody(queryId: string, slots: readonly [string, string][], returnType: 'LeafClass' | 'ObjectRef' = 'LeafClass'): string {
  return (
    `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}">` +
    `<query:ResponseOption returnType="${returnType}" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="${queryId}">` +
    slots.map(([name, value]) => `<rim:Slot name="${name}"><rim:ValueList><rim:Value>${xmlEscape(value)}</rim:Value></rim:ValueList></rim:Slot>`).join('') +
    `</rim:AdhocQuery></query:AdhocQueryRequest>`
  );
}

const documentsOf = (...patients: string[]): [string, string][] => [
  ...(patients.length > 0 ? [['$XDSDocumentEntryPatientId', list(...patients)] as [string, string]] : []),
  ['$XDSDocumentEntryStatus', APPROVED],
  ['$XDSDocumentEntryClassCode', list(CLASS_EPIKRISE)],
];

const foldersOf = (...patients: string[]): [string, string][] => [
  ...(patients.length > 0 ? [['$XDSFolderPatientId', list(...patients)] as [string, string]] : []),
  ['$XDSFolderStatus', APPROVED],
  ['$XDSFolderCodeList', list(FOLDER_CODE)],
];

/** The value of an object's ExternalIdentifier of the given scheme. */
function identifier(o: XmlElement, scheme: string): string | undefined {
  return childElements(o, NS.rim, 'ExternalIdentifier').find((e) => e.attrs['identificationScheme'] === scheme)?.attrs['value'];
}

function faultSubcodes(body: XmlElement): string {
  expect(body.local, 'expected a SOAP Fault').to.equal('Fault');
  const out: string[] = [];
  let sub = childElement(childElement(body, NS.soap12, 'Code')!, NS.soap12, 'Subcode');
  while (sub) {
    out.push(textContent(childElement(sub, NS.soap12, 'Value')!).trim());
    sub = childElement(sub, NS.soap12, 'Subcode');
  }
  return out.join(' ');
}

/**
 * Registers the three patients' submissions (ITI-42) at a node; the entryUUID of each patient's
 * DocumentEntry and Folder as the registry assigned them, read with the single-patient queries of
 * ITI-18.
 */
async function populate(node: TestNode): Promise<{ entryOf: Map<string, string>; folderOf: Map<string, string> }> {
  const entryOf = new Map<string, string>();
  const folderOf = new Map<string, string>();
  for (const p of Object.values(PATIENT)) {
    const res = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti42.request, withFolder(p));
    expect(status(res.body), `ITI-42 for ${p}`).to.equal('Success');
  }
  for (const p of Object.values(PATIENT)) {
    const docs = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, queryBody(STORED_QUERY_ID.FindDocuments, [
      ['$XDSDocumentEntryPatientId', `'${p}'`],
      ['$XDSDocumentEntryStatus', APPROVED],
    ], 'ObjectRef'));
    const folders = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, queryBody(STORED_QUERY_ID.FindFolders, [
      ['$XDSFolderPatientId', `'${p}'`],
      ['$XDSFolderStatus', APPROVED],
    ], 'ObjectRef'));
    const [doc] = descendants(docs.body, NS.rim, 'ObjectRef');
    const [folder] = descendants(folders.body, NS.rim, 'ObjectRef');
    entryOf.set(p, doc!.attrs['id']!);
    folderOf.set(p, folder!.attrs['id']!);
  }
  return { entryOf, folderOf };
}

describe('ITI-51 Multi-Patient Stored Query (trust off)', function () {
  this.timeout(30_000);
  /** The node under test: registry.multiPatientQuery enabled (trust off, so no allowed list applies). */
  let node: TestNode;
  /** A node on the default configuration (ITI-51 not offered), with the same data. */
  let plain: TestNode;
  /** entryUUID of each patient's DocumentEntry and Folder at `node`, as its registry assigned them. */
  let entryOf = new Map<string, string>();
  let folderOf = new Map<string, string>();

  const iti51 = (body: string) => postSoap(`${node.url}/xds/registry`, ACTIONS.iti51.request, body);

  before(async () => {
    node = await startTestNode({
      homeCommunityId: HOME,
      registry: { multiPatientQuery: { enabled: true, allowed: { organizations: [], roles: [] } } },
    });
    ({ entryOf, folderOf } = await populate(node));
    plain = await startTestNode({ homeCommunityId: HOME });
    await populate(plain);
  });
  after(async () => {
    await plain?.close();
    await node?.close();
  });

  describe('FindDocumentsForMultiplePatients', () => {
    it('two of three patients (LeafClass): exactly their entries, across patients', async () => {
      const res = await iti51(queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(PATIENT.a, PATIENT.b)));
      expect(status(res.body)).to.equal('Success');
      const eos = descendants(res.body, NS.rim, 'ExtrinsicObject');
      expect(eos.map((e) => e.attrs['id']).sort()).to.deep.equal([entryOf.get(PATIENT.a), entryOf.get(PATIENT.b)].sort());
      expect(eos.map((e) => identifier(e, DOCUMENT_PATIENT_SCHEME)).sort()).to.deep.equal([PATIENT.a, PATIENT.b].sort());
      expect(eos.every((e) => e.attrs['home'] === HOME), 'stamped with our homeCommunityId').to.equal(true);
    });

    it('two of three patients (ObjectRef): the same entries as references', async () => {
      const res = await iti51(queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(PATIENT.a, PATIENT.b), 'ObjectRef'));
      expect(status(res.body)).to.equal('Success');
      expect(descendants(res.body, NS.rim, 'ExtrinsicObject')).to.have.length(0);
      const refs = descendants(res.body, NS.rim, 'ObjectRef').map((r) => r.attrs['id']);
      expect(refs.sort()).to.deep.equal([entryOf.get(PATIENT.a), entryOf.get(PATIENT.b)].sort());
    });

    it('without a patient id: every patient whose entries match the codes', async () => {
      const res = await iti51(queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(), 'ObjectRef'));
      expect(status(res.body)).to.equal('Success');
      expect(descendants(res.body, NS.rim, 'ObjectRef').map((r) => r.attrs['id']).sort()).to.deep.equal(
        Object.values(PATIENT).map((p) => entryOf.get(p)).sort(),
      );
    });

    it('patient ids OR-ed across repeated slots; codes still filter', async () => {
      const slots: [string, string][] = [
        ['$XDSDocumentEntryPatientId', list(PATIENT.a)],
        ['$XDSDocumentEntryPatientId', list(PATIENT.c)],
        ['$XDSDocumentEntryStatus', APPROVED],
        ['$XDSDocumentEntryHealthcareFacilityTypeCode', list('86.101^^2.16.578.1.12.4.1.1.1303')],
      ];
      const res = await iti51(queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, slots, 'ObjectRef'));
      expect(descendants(res.body, NS.rim, 'ObjectRef').map((r) => r.attrs['id']).sort()).to.deep.equal([entryOf.get(PATIENT.a), entryOf.get(PATIENT.c)].sort());
      const none = await iti51(
        queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, [...slots.slice(0, 3), ['$XDSDocumentEntryEventCodeList', list('X-1^^1.2.3')]], 'ObjectRef'),
      );
      expect(status(none.body)).to.equal('Success');
      expect(descendants(none.body, NS.rim, 'ObjectRef')).to.have.length(0);
    });

    it('neither class, event nor facility type code → Failure, XDSStoredQueryMissingParam', async () => {
      const res = await iti51(
        queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, [
          ['$XDSDocumentEntryPatientId', list(PATIENT.a)],
          ['$XDSDocumentEntryStatus', APPROVED],
          ['$XDSDocumentEntryTypeCode', list('A03-2^^2.16.578.1.12.4.1.1.9602')],
        ]),
      );
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(['XDSStoredQueryMissingParam']);
      const location = descendants(res.body, NS.rs, 'RegistryError')[0]!.attrs['location'];
      expect(location).to.contain('$XDSDocumentEntryClassCode').and.contain('$XDSDocumentEntryEventCodeList').and.contain('$XDSDocumentEntryHealthcareFacilityTypeCode');
      expect(descendants(res.body, NS.rim, 'ExtrinsicObject')).to.have.length(0);
    });

    it('without $XDSDocumentEntryStatus → XDSStoredQueryMissingParam; a bad value → XDSRegistryError', async () => {
      const noStatus = await iti51(queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(PATIENT.a).filter(([n]) => n !== '$XDSDocumentEntryStatus')));
      expect(errorCodes(noStatus.body)).to.deep.equal(['XDSStoredQueryMissingParam']);
      const badCode = await iti51(
        queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, [['$XDSDocumentEntryStatus', APPROVED], ['$XDSDocumentEntryClassCode', "('Dialysis')"]]),
      );
      expect(errorCodes(badCode.body)).to.deep.equal(['XDSRegistryError']);
    });
  });

  describe('FindFoldersForMultiplePatients', () => {
    it('two of three patients: exactly their folders (LeafClass and ObjectRef)', async () => {
      const leaf = await iti51(queryBody(STORED_QUERY_ID.FindFoldersForMultiplePatients, foldersOf(PATIENT.a, PATIENT.c)));
      expect(status(leaf.body)).to.equal('Success');
      const packages = descendants(leaf.body, NS.rim, 'RegistryPackage');
      expect(packages.map((p) => p.attrs['id']).sort()).to.deep.equal([folderOf.get(PATIENT.a), folderOf.get(PATIENT.c)].sort());
      expect(packages.map((p) => identifier(p, FOLDER_PATIENT_SCHEME)).sort()).to.deep.equal([PATIENT.a, PATIENT.c].sort());
      const refs = await iti51(queryBody(STORED_QUERY_ID.FindFoldersForMultiplePatients, foldersOf(PATIENT.a, PATIENT.c), 'ObjectRef'));
      expect(descendants(refs.body, NS.rim, 'ObjectRef').map((r) => r.attrs['id']).sort()).to.deep.equal([folderOf.get(PATIENT.a), folderOf.get(PATIENT.c)].sort());
    });

    it('without a patient id: every matching folder', async () => {
      const res = await iti51(queryBody(STORED_QUERY_ID.FindFoldersForMultiplePatients, foldersOf(), 'ObjectRef'));
      expect(descendants(res.body, NS.rim, 'ObjectRef')).to.have.length(3);
    });

    it('without $XDSFolderCodeList → Failure, XDSStoredQueryMissingParam', async () => {
      const res = await iti51(queryBody(STORED_QUERY_ID.FindFoldersForMultiplePatients, foldersOf(PATIENT.a).filter(([n]) => n !== '$XDSFolderCodeList')));
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(['XDSStoredQueryMissingParam']);
    });
  });

  describe('each transaction offers its own queries only', () => {
    it('ITI-18 refuses both multi-patient ids: XDSUnknownStoredQuery', async () => {
      for (const [id, slots] of [
        [STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(PATIENT.a, PATIENT.b)],
        [STORED_QUERY_ID.FindFoldersForMultiplePatients, foldersOf(PATIENT.a)],
      ] as const) {
        const res = await postSoap(`${plain.url}/xds/registry`, ACTIONS.iti18.request, queryBody(id, slots));
        expect(status(res.body), id).to.equal('Failure');
        expect(errorCodes(res.body), id).to.deep.equal(['XDSUnknownStoredQuery']);
        expect(descendants(res.body, NS.rim, 'ExtrinsicObject')).to.have.length(0);
      }
    });

    it('ITI-18 refuses them at a node offering ITI-51 too (the action decides, not the endpoint)', async () => {
      const res = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(PATIENT.a)));
      expect(errorCodes(res.body)).to.deep.equal(['XDSUnknownStoredQuery']);
    });

    it('ITI-51 refuses FindDocuments, FindFolders and GetDocuments: XDSUnknownStoredQuery', async () => {
      const cases: [string, [string, string][]][] = [
        [STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', `'${PATIENT.a}'`], ['$XDSDocumentEntryStatus', APPROVED]]],
        [STORED_QUERY_ID.FindFolders, [['$XDSFolderPatientId', `'${PATIENT.a}'`], ['$XDSFolderStatus', APPROVED]]],
        [STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryEntryUUID', list(entryOf.get(PATIENT.a)!)]]],
      ];
      for (const [id, slots] of cases) {
        const res = await iti51(queryBody(id, slots));
        expect(status(res.body), id).to.equal('Failure');
        expect(errorCodes(res.body), id).to.deep.equal(['XDSUnknownStoredQuery']);
        expect(descendants(res.body, NS.rim, 'ExtrinsicObject'), id).to.have.length(0);
      }
    });

    it('an id neither transaction knows → XDSUnknownStoredQuery', async () => {
      const res = await iti51(queryBody('urn:uuid:00000000-0000-4000-8000-000000000000', documentsOf(PATIENT.a)));
      expect(errorCodes(res.body)).to.deep.equal(['XDSUnknownStoredQuery']);
    });

    it('answers with the ITI-51 response action', async () => {
      const res = await iti51(queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(PATIENT.a)));
      const header = childElement(res.envelope, NS.soap12, 'Header')!;
      expect(textContent(childElement(header, NS.wsa, 'Action')!).trim()).to.equal(ACTIONS.iti51.response);
    });
  });

  describe('off unless enabled', () => {
    it('a node on the default configuration does not offer the action: wsa:ActionNotSupported', async () => {
      expect(plain.config.registry.multiPatientQuery.enabled).to.equal(false);
      const res = await postSoap(`${plain.url}/xds/registry`, ACTIONS.iti51.request, queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(PATIENT.a)));
      expect(res.httpStatus).to.be.within(400, 599);
      expect(faultSubcodes(res.body)).to.contain('ActionNotSupported');
    });

    it('a node with enabled: false (and an allowed list) does not offer it either', async () => {
      const off = await startTestNode({
        homeCommunityId: HOME,
        registry: { multiPatientQuery: { enabled: false, allowed: { organizations: ['960510542'], roles: [] } } },
      });
      try {
        await populate(off);
        const res = await postSoap(`${off.url}/xds/registry`, ACTIONS.iti51.request, queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(PATIENT.a)));
        expect(faultSubcodes(res.body)).to.contain('ActionNotSupported');
        // ITI-18 is still served there.
        const findDocuments = queryBody(STORED_QUERY_ID.FindDocuments, [
          ['$XDSDocumentEntryPatientId', `'${PATIENT.a}'`],
          ['$XDSDocumentEntryStatus', APPROVED],
        ]);
        const iti18 = await postSoap(`${off.url}/xds/registry`, ACTIONS.iti18.request, findDocuments);
        expect(status(iti18.body)).to.equal('Success');
      } finally {
        await off.close();
      }
    });
  });

  describe('result limit', () => {
    it('a query over more entries than registry.queryResultLimit → XDSTooManyResults, nothing returned', async () => {
      const request = {
        queryId: STORED_QUERY_ID.FindDocumentsForMultiplePatients,
        returnType: 'ObjectRef' as const,
        parameters: documentsOf().map(([name, value]) => ({ name, values: [value] })),
        transaction: 'ITI-51' as const,
      };
      const tight = await runStoredQuery(node.registry.store, request, { maxResults: 2 });
      expect(tight.status).to.equal('Failure');
      expect(tight.errors.map((e) => e.code)).to.deep.equal(['XDSTooManyResults']);
      expect(tight.objects).to.have.length(0);
      const enough = await runStoredQuery(node.registry.store, request, { maxResults: 3 });
      expect(enough.objects).to.have.length(3);
      // The same request without the transaction is ITI-18's, which does not know the query.
      const { transaction: _t, ...asIti18 } = request;
      expect((await runStoredQuery(node.registry.store, asIti18, { maxResults: 3 })).errors.map((e) => e.code)).to.deep.equal(['XDSUnknownStoredQuery']);
    });
  });

  describe('audit', () => {
    it('one ITI-51 Query event per patient the query named, with the query, recorded before the answer', async () => {
      const before = auditRows(node.dataDir).length;
      await iti51(queryBody(STORED_QUERY_ID.FindDocumentsForMultiplePatients, documentsOf(PATIENT.a, PATIENT.b)));
      // Read right after the answer arrived: the events must already be there.
      const rows = auditRows(node.dataDir).slice(before);
      expect(rows.map((r) => [r.access.transaction, r.access.outcome, r.patientId])).to.have.deep.members([
        ['ITI-51', 'success', FNR.a],
        ['ITI-51', 'success', FNR.b],
      ]);
      for (const r of rows) {
        expect(r.resource).to.contain('110112'); // DICOM Query
        expect(r.resource).to.contain('Multi-Patient Stored Query');
        expect(r.resource).to.contain(STORED_QUERY_ID.FindDocumentsForMultiplePatients);
      }
    });

    it('a query without patient id: one event per patient in the answer', async () => {
      const before = auditRows(node.dataDir).length;
      await iti51(queryBody(STORED_QUERY_ID.FindFoldersForMultiplePatients, foldersOf(), 'ObjectRef'));
      const rows = auditRows(node.dataDir).slice(before);
      expect(rows.map((r) => r.patientId)).to.have.members([FNR.a, FNR.b, FNR.c]);
      expect(rows.every((r) => r.access.transaction === 'ITI-51' && r.access.outcome === 'success')).to.equal(true);
    });

    it('a refused query without patient and without answer: one failure event', async () => {
      const before = auditRows(node.dataDir).length;
      await iti51(queryBody(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryStatus', APPROVED]]));
      const rows = auditRows(node.dataDir).slice(before);
      expect(rows.map((r) => [r.access.transaction, r.access.outcome, r.patientId])).to.deep.equal([['ITI-51', 'failure', null]]);
    });
  });
});

describe('registry.multiPatientQuery configuration', () => {
  it('is off by default, allowing no one', () => {
    expect(parseConfig({}).registry.multiPatientQuery).to.deep.equal({ enabled: false, allowed: { organizations: [], roles: [] } });
  });

  it('takes organisation numbers and role codes', () => {
    const c = parseConfig({ registry: { multiPatientQuery: { enabled: true, allowed: { organizations: ['974589095'], roles: ['LE'] } } } });
    expect(c.registry.multiPatientQuery).to.deep.equal({ enabled: true, allowed: { organizations: ['974589095'], roles: ['LE'] } });
  });

  it('names a bad value and an unknown key', () => {
    expect(() => parseConfig({ registry: { multiPatientQuery: { allowed: { organizations: ['97458909'] } } } })).to.throw(
      ConfigError,
      'registry.multiPatientQuery.allowed.organizations.0',
    );
    expect(() => parseConfig({ registry: { multiPatientQuery: { enabled: 'yes' } } })).to.throw(ConfigError, 'registry.multiPatientQuery.enabled');
    expect(() => parseConfig({ registry: { multiPatientQuery: { enable: true } } })).to.throw(ConfigError, "'registry.multiPatientQuery.enable'");
  });
});

describe('the ITI-51 audit event', () => {
  const query = { storedQueryId: STORED_QUERY_ID.FindDocumentsForMultiplePatients, text: '<query:AdhocQueryRequest/>' };

  it('is a DICOM Query (110112, E) typed ITI-51, with the patient and the query, valid against the DICOM schema', async () => {
    const event = auditEvents.iti51({ ...baseInput(), query });
    expect(event.transaction).to.equal('ITI-51');
    expect(event.eventId).to.deep.equal({ code: '110112', system: 'DCM', display: 'Query' });
    expect(event.eventAction).to.equal('E');
    expect(event.eventTypes).to.deep.equal([{ code: 'ITI-51', system: 'IHE Transactions', display: 'Multi-Patient Stored Query' }]);
    expect(event.patientId).to.equal(PATIENT_ID);
    expect(event.requestingParty).to.equal('source');
    const xml = toDicomXml(event);
    expect(xml).to.match(/ParticipantObjectTypeCodeRole="24"[^>]*>\s*<ParticipantObjectIDTypeCode csd-code="ITI-51"/);
    const denied = denialEvent({ transaction: 'ITI-51', ...baseInput(), query, reason: 'multi-patient-query: not listed' });
    expect(denied.denied).to.equal(true);
    expect(denied.outcome).to.equal('serious-failure');
    expect(await dicomSchemaErrors([xml, toDicomXml(denied)])).to.deep.equal([]);
  });
});
