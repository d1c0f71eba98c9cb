/**
 * ITI-57 Update Document Set at the registry, over real HTTP: new versions of DocumentEntries and
 * Folders (versions, deprecation, association propagation), status changes, associations submitted
 * between registered objects, each refusal with its error code, atomicity (a refused update changes
 * nothing), two updates of one logical object racing each other, what ITI-42 now refuses, the
 * version-aware stored queries ($MetadataLevel, logicalID, $XDSAssociationStatus) and the audit
 * event. (The NIST reg_mu plans run in test/integration/nist-conformance.)
 *
 * The messages are written here as text, from the Norwegian epikrise fixture, the way a source
 * would send them: an update is an ITI-42-shaped SubmitObjectsRequest whose DocumentEntry carries
 * the lid of the registered one and whose SubmissionSet HasMember carries PreviousVersion.
 */
import { expect } from 'chai';
import { readParameters } from '../../registry/query/parameters.js';
import { PARAMETER_TABLES } from '../../registry/query/parameter-tables.js';
import { RegistryFailure } from '../../registry/model/errors.js';
import type { Association, DocumentEntry, Folder, RegistryObject } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, descendants, type XmlElement } from '../../registry/xml/tree.js';
import { cx, epikrise, errorCodes, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { auditRows, OTHER_FNR, PATIENT_FNR } from '../wiring/helpers.js';

const PATIENT = cx(PATIENT_FNR);
const OTHER = cx(OTHER_FNR);
const STATUS = 'urn:oasis:names:tc:ebxml-regrep:StatusType:';
const HAS_MEMBER = 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember';
const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const slot = (name: string, ...values: string[]): string =>
  `<rim:Slot name="${name}"><rim:ValueList>${values.map((v) => `<rim:Value>${v}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`;
const sor = (objects: string): string =>
  `<lcm:SubmitObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:RegistryObjectList>${objects}</rim:RegistryObjectList></lcm:SubmitObjectsRequest>`;

/** The epikrise's SubmissionSet (a fresh uniqueId) with its classification node, for `patient`. */
function submissionSet(patient: string): string {
  const m = /<rim:RegistryPackage id="SubmissionSet01">[\s\S]*?<\/rim:RegistryPackage>\s*<rim:Classification id="cl10"[^>]*\/>/.exec(epikrise({ patient }).xml);
  return m![0];
}

interface VersionOptions {
  readonly lid: string;
  readonly docUid: string;
  readonly previous: string;
  readonly patient?: string;
  readonly title?: string;
  readonly propagation?: string;
  /** Further changes to the message text. */
  readonly edit?: (xml: string) => string;
}

/** An ITI-57 request with a new version of the epikrise registered under `lid`. */
function newVersion(o: VersionOptions): string {
  let xml = epikrise({ patient: o.patient ?? PATIENT, docUid: o.docUid }).xml.replace(/^<\?xml[^>]*>\s*/, '');
  xml = xml.replace('<rim:ExtrinsicObject id="Document01"', `<rim:ExtrinsicObject id="Document01" lid="${o.lid}"`);
  xml = xml.replace(
    /(<rim:Slot name="SubmissionSetStatus">[\s\S]*?<\/rim:Slot>)/,
    `$1${slot('PreviousVersion', o.previous)}${o.propagation !== undefined ? slot('AssociationPropagation', o.propagation) : ''}`,
  );
  if (o.title !== undefined) xml = xml.replace('value="Epikrise indremedisin"', `value="${o.title}"`);
  return o.edit ? o.edit(xml) : xml;
}

/** An ITI-57 request changing the availabilityStatus of `target` from `from` to `to`. */
function statusChange(target: string, from: string, to: string, patient = PATIENT): string {
  return sor(
    submissionSet(patient) +
      `<rim:Association id="up01" associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus" sourceObject="SubmissionSet01" targetObject="${target}">` +
      slot('OriginalStatus', `${STATUS}${from}`) +
      slot('NewStatus', `${STATUS}${to}`) +
      '</rim:Association>',
  );
}

/** An ITI-57 request submitting a `type` association from `source` to `target` (registered objects). */
function submitAssociation(type: string, source: string, target: string, patient = PATIENT): string {
  return sor(
    submissionSet(patient) +
      `<rim:Association id="sa01" associationType="urn:ihe:iti:2010:AssociationType:SubmitAssociation" sourceObject="SubmissionSet01" targetObject="as01"/>` +
      `<rim:Association id="as01" associationType="${type}" sourceObject="${source}" targetObject="${target}"/>`,
  );
}

/** Folder01 for `patient` with uniqueId `folderUid` (RegistryPackage, classification node), optionally a new version of `lid`. */
function folder(patient: string, folderUid: string, title: string, lid?: string): string {
  return (
    `<rim:RegistryPackage id="Folder01"${lid !== undefined ? ` lid="${lid}"` : ''}><rim:Name><rim:LocalizedString value="${title}"/></rim:Name>` +
    `<rim:Classification id="clf1" classificationScheme="urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5" classifiedObject="Folder01" nodeRepresentation="A00-1">` +
    `${slot('codingScheme', '2.16.578.1.12.4.1.1.9602')}<rim:Name><rim:LocalizedString value="Epikriser"/></rim:Name></rim:Classification>` +
    `<rim:ExternalIdentifier id="eif1" identificationScheme="urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a" registryObject="Folder01" value="${xmlEscape(patient)}"/>` +
    `<rim:ExternalIdentifier id="eif2" identificationScheme="urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a" registryObject="Folder01" value="${folderUid}"/>` +
    `</rim:RegistryPackage><rim:Classification id="clf0" classifiedObject="Folder01" classificationNode="urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"/>`
  );
}

/** ITI-42: the epikrise filed in a new folder. */
function epikriseInFolder(patient: string, docUid: string, folderUid: string): string {
  return epikrise({ patient, docUid }).xml.replace(
    '</rim:RegistryObjectList>',
    folder(patient, folderUid, 'Innleggelse') +
      `<rim:Association id="asf1" associationType="${HAS_MEMBER}" sourceObject="SubmissionSet01" targetObject="Folder01"/>` +
      `<rim:Association id="asf2" associationType="${HAS_MEMBER}" sourceObject="Folder01" targetObject="Document01"/>` +
      `<rim:Association id="asf3" associationType="${HAS_MEMBER}" sourceObject="SubmissionSet01" targetObject="asf2"/>` +
      '</rim:RegistryObjectList>',
  );
}

/** ITI-57: a new version of the folder registered under `lid`. */
function newFolderVersion(patient: string, folderUid: string, lid: string, previous: string, propagation?: string): string {
  return sor(
    submissionSet(patient) +
      folder(patient, folderUid, 'Innleggelse, revidert', lid) +
      `<rim:Association id="asf1" associationType="${HAS_MEMBER}" sourceObject="SubmissionSet01" targetObject="Folder01">` +
      slot('PreviousVersion', previous) +
      (propagation !== undefined ? slot('AssociationPropagation', propagation) : '') +
      '</rim:Association>',
  );
}

/** A stored query (LeafClass unless told) with the slots given as [name, value] (values written as sent). */
function query(id: string, slots: readonly [string, string][], returnType: 'LeafClass' | 'ObjectRef' = 'LeafClass'): string {
  return (
    `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}"><query:ResponseOption returnType="${returnType}" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="${id}">${slots.map(([n, v]) => slot(n, xmlEscape(v))).join('')}</rim:AdhocQuery></query:AdhocQueryRequest>`
  );
}

interface Listed {
  readonly id: string;
  readonly lid?: string;
  readonly version?: string;
  readonly status: string;
}

function listed(body: XmlElement, local: 'ExtrinsicObject' | 'RegistryPackage' | 'Association'): Listed[] {
  return descendants(body, NS.rim, local).map((e) => {
    const version = childElement(e, NS.rim, 'VersionInfo')?.attrs['versionName'];
    const out: Listed = { id: e.attrs['id']!, status: (e.attrs['status'] ?? '').replace(STATUS, '') };
    return { ...out, ...(e.attrs['lid'] !== undefined ? { lid: e.attrs['lid'] } : {}), ...(version !== undefined ? { version } : {}) };
  });
}

describe('ITI-57 Update Document Set', function () {
  this.timeout(60_000);
  let node: TestNode;
  let url: string;

  const update = (body: string) => postSoap(url, ACTIONS.iti57.request, body);
  const register = async (body: string): Promise<void> => {
    const res = await postSoap(url, ACTIONS.iti42.request, body);
    expect(status(res.body), `ITI-42: ${errorCodes(res.body).join(' ')}`).to.equal('Success');
  };
  const stored = (filter: Record<string, unknown>) => node.registry.store.find(filter);
  const byUid = async (docUid: string): Promise<DocumentEntry[]> => (await stored({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];
  const sq = (body: string) => postSoap(url, ACTIONS.iti18.request, body);

  /** Registers an epikrise and returns its DocumentEntry. */
  async function registered(patient = PATIENT): Promise<DocumentEntry> {
    const docUid = uid();
    await register(epikrise({ patient, docUid }).xml);
    return (await byUid(docUid))[0]!;
  }

  before(async () => {
    node = await startTestNode();
    url = `${node.url}/xds/registry`;
  });
  after(async () => node?.close());

  describe('a new version of a DocumentEntry', () => {
    it('is version 2 of the same lid, Approved, and the first version becomes Deprecated; the update is audited', async () => {
      const v1 = await registered();
      const auditedBefore = auditRows(node.dataDir).length;
      const res = await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1', title: 'Epikrise, korrigert' }));
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');

      const versions = await byUid(v1.uniqueId!);
      expect(versions).to.have.length(2);
      const v2 = versions.find((v) => v.entryUuid !== v1.entryUuid)!;
      expect(v2).to.include({ logicalUuid: v1.entryUuid, version: '2', availabilityStatus: 'Approved' });
      expect(v2.title?.value).to.equal('Epikrise, korrigert');
      expect(versions.find((v) => v.entryUuid === v1.entryUuid)).to.include({ logicalUuid: v1.entryUuid, version: '1', availabilityStatus: 'Deprecated' });

      const events = auditRows(node.dataDir).slice(auditedBefore).filter((r) => r.access.transaction === 'ITI-57');
      expect(events).to.have.length(1);
      expect(events[0]!.access.outcome).to.equal('success');
      expect(events[0]!.access.documents).to.include(v1.uniqueId);
      expect(PATIENT.startsWith(`${events[0]!.patientId}^^^`)).to.equal(true);
    });

    it('GetDocuments by logicalID: both versions at $MetadataLevel 2, the latest only at level 1; the answer carries lid and VersionInfo', async () => {
      const v1 = await registered();
      expect(status((await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1' }))).body)).to.equal('Success');
      const level2 = await sq(query(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryLogicalID', `('${v1.entryUuid}')`], ['$MetadataLevel', '2']]));
      expect(status(level2.body)).to.equal('Success');
      const both = listed(level2.body, 'ExtrinsicObject');
      expect(both.map((d) => [d.lid, d.version, d.status]).sort()).to.deep.equal([
        [v1.entryUuid, '1', 'Deprecated'],
        [v1.entryUuid, '2', 'Approved'],
      ]);
      const level1 = await sq(query(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryLogicalID', `('${v1.entryUuid}')`]]));
      expect(listed(level1.body, 'ExtrinsicObject').map((d) => d.version)).to.deep.equal(['2']);
      // By uniqueId the same, and the superseded version by its entryUUID only at level 2.
      const byUniqueId = await sq(query(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryUniqueId', `('${v1.uniqueId!}')`]]));
      expect(listed(byUniqueId.body, 'ExtrinsicObject').map((d) => d.version)).to.deep.equal(['2']);
      const old1 = await sq(query(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryEntryUUID', `('${v1.entryUuid}')`]]));
      expect(listed(old1.body, 'ExtrinsicObject')).to.deep.equal([]);
      const old2 = await sq(query(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryEntryUUID', `('${v1.entryUuid}')`], ['$MetadataLevel', '2']]));
      expect(listed(old2.body, 'ExtrinsicObject').map((d) => d.version)).to.deep.equal(['1']);
    });

    it('FindDocuments for Approved and Deprecated: the superseded version only at $MetadataLevel 2', async () => {
      const patient = cx('13116900216');
      const v1 = await registered(patient);
      expect(status((await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1', patient }))).body)).to.equal('Success');
      const statuses: [string, string] = ['$XDSDocumentEntryStatus', `('${STATUS}Approved','${STATUS}Deprecated')`];
      const level1 = await sq(query(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', `'${patient}'`], statuses]));
      const level2 = await sq(query(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', `'${patient}'`], statuses, ['$MetadataLevel', '2']]));
      const ours = (body: XmlElement) => listed(body, 'ExtrinsicObject').filter((d) => d.lid === v1.entryUuid).map((d) => d.version).sort();
      expect(ours(level1.body)).to.deep.equal(['2']);
      expect(ours(level2.body)).to.deep.equal(['1', '2']);
    });

    it('PreviousVersion that is not the latest version → XDSMetadataVersionError; nothing stored', async () => {
      const v1 = await registered();
      expect(status((await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1' }))).body)).to.equal('Success');
      const res = await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1', title: 'stale' }));
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(['XDSMetadataVersionError']);
      expect((await byUid(v1.uniqueId!)).map((v) => v.version).sort()).to.deep.equal(['1', '2']);
    });

    it('a lid no registered object has → XDSMetadataVersionError', async () => {
      const res = await update(newVersion({ lid: 'urn:uuid:0b8b4a1e-1f2c-4d3e-8a5b-6c7d8e9f0a1b', docUid: uid(), previous: '1' }));
      expect(errorCodes(res.body)).to.deep.equal(['XDSMetadataVersionError']);
    });

    it('an initial version sent as an update (no lid) → XDSMetadataUpdateError', async () => {
      const res = await update(epikrise({ patient: PATIENT }).xml.replace(/(<rim:Slot name="SubmissionSetStatus">[\s\S]*?<\/rim:Slot>)/, `$1${slot('PreviousVersion', '1')}`));
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(['XDSMetadataUpdateError']);
    });

    it('an update of a deprecated logical DocumentEntry → XDSMetadataUpdateError', async () => {
      const v1 = await registered();
      expect(status((await update(statusChange(v1.entryUuid, 'Approved', 'Deprecated'))).body)).to.equal('Success');
      const res = await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1' }));
      expect(errorCodes(res.body)).to.deep.equal(['XDSMetadataUpdateError']);
    });

    it('another uniqueId → XDSMetadataIdentifierError', async () => {
      const v1 = await registered();
      const res = await update(newVersion({ lid: v1.entryUuid, docUid: uid(), previous: '1' }));
      expect(errorCodes(res.body)).to.deep.equal(['XDSMetadataIdentifierError']);
    });

    it('another objectType (stable → on-demand) → UnmodifiableMetadataError', async () => {
      const v1 = await registered();
      const onDemand = (xml: string) => xml.replace('objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"', 'objectType="urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"');
      const res = await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1', edit: onDemand }));
      expect(errorCodes(res.body)).to.include('UnmodifiableMetadataError');
      expect(await byUid(v1.uniqueId!)).to.have.length(1);
    });

    it('a malformed PreviousVersion or AssociationPropagation, or a request with no operation → XDSMetadataUpdateOperationError', async () => {
      const v1 = await registered();
      expect(errorCodes((await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: 'latest' }))).body)).to.deep.equal(['XDSMetadataUpdateOperationError']);
      expect(errorCodes((await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1', propagation: 'maybe' }))).body)).to.deep.equal([
        'XDSMetadataUpdateOperationError',
      ]);
      expect(errorCodes((await update(sor(submissionSet(PATIENT)))).body)).to.deep.equal(['XDSMetadataUpdateOperationError']);
      expect(await byUid(v1.uniqueId!)).to.have.length(1);
    });

    it('another patient for a document in a folder → XDSPatientIDReconciliationError; an unconnected document may change patient', async () => {
      const docUid = uid();
      await register(epikriseInFolder(PATIENT, docUid, uid()));
      const [filed] = await byUid(docUid);
      const moved = await update(newVersion({ lid: filed!.entryUuid, docUid, previous: '1', patient: OTHER }));
      expect(errorCodes(moved.body)).to.deep.equal(['XDSPatientIDReconciliationError']);

      const alone = await registered();
      const res = await update(newVersion({ lid: alone.entryUuid, docUid: alone.uniqueId!, previous: '1', patient: OTHER }));
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      // Both versions by logicalID now span two patients: LeafClass refuses, ObjectRef answers (NIST 21002).
      const leaf = await sq(query(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryLogicalID', `('${alone.entryUuid}')`], ['$MetadataLevel', '2']]));
      expect(errorCodes(leaf.body)).to.deep.equal(['XDSResultNotSinglePatient']);
      const refs = await sq(query(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryLogicalID', `('${alone.entryUuid}')`], ['$MetadataLevel', '2']], 'ObjectRef'));
      expect(descendants(refs.body, NS.rim, 'ObjectRef')).to.have.length(2);
    });

    it('a refused update changes nothing: the first version stays Approved, no version, SubmissionSet or association is stored', async () => {
      const v1 = await registered();
      const before = (await stored({})).length;
      // One new version right, one (of another document) wrong: the request is refused whole.
      const other = await registered();
      const before2 = (await stored({})).length;
      expect(before2).to.be.greaterThan(before);
      const twoVersions = newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1' }).replace(
        '</rim:RegistryObjectList>',
        newVersion({ lid: other.entryUuid, docUid: other.uniqueId!, previous: '7' })
          .match(/<rim:ExtrinsicObject[\s\S]*?<\/rim:ExtrinsicObject>/)![0]
          .replaceAll('Document01', 'Document02') +
          `<rim:Association id="as02" associationType="${HAS_MEMBER}" sourceObject="SubmissionSet01" targetObject="Document02">${slot('SubmissionSetStatus', 'Original')}${slot('PreviousVersion', '7')}</rim:Association>` +
          '</rim:RegistryObjectList>',
      );
      const res = await update(twoVersions);
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(['XDSMetadataVersionError']);
      expect((await stored({})).length).to.equal(before2);
      expect((await byUid(v1.uniqueId!)).map((v) => [v.version, v.availabilityStatus])).to.deep.equal([['1', 'Approved']]);
    });

    it('two updates of one logical DocumentEntry at once: exactly one succeeds, the other gets XDSMetadataVersionError', async () => {
      const v1 = await registered();
      const answers = await Promise.all([
        update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1', title: 'A' })),
        update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1', title: 'B' })),
      ]);
      expect(answers.map((a) => status(a.body)).sort()).to.deep.equal(['Failure', 'Success']);
      expect(errorCodes(answers.find((a) => status(a.body) === 'Failure')!.body)).to.deep.equal(['XDSMetadataVersionError']);
      const versions = await byUid(v1.uniqueId!);
      expect(versions.map((v) => [v.version, v.availabilityStatus]).sort()).to.deep.equal([
        ['1', 'Deprecated'],
        ['2', 'Approved'],
      ]);
    });

    it('carries folder memberships to the new version (AssociationPropagation by default) and moves the folder lastUpdateTime; "no" leaves them', async () => {
      const docUid = uid();
      const folderUid = uid();
      await register(epikriseInFolder(PATIENT, docUid, folderUid));
      const [v1] = await byUid(docUid);
      const [fol] = (await stored({ type: 'Folder', uniqueId: folderUid })) as Folder[];
      await new Promise((r) => setTimeout(r, 1100)); // lastUpdateTime has one-second precision
      expect(status((await update(newVersion({ lid: v1!.entryUuid, docUid, previous: '1' }))).body)).to.equal('Success');
      const v2 = (await byUid(docUid)).find((v) => v.version === '2')!;
      const memberships = (await stored({ type: 'Association', associationType: HAS_MEMBER, sourceUuid: fol!.entryUuid })) as Association[];
      expect(memberships.map((a) => [a.targetUuid, a.availabilityStatus]).sort()).to.deep.equal([
        [v1!.entryUuid, 'Approved'],
        [v2.entryUuid, 'Approved'],
      ].sort());
      const [touched] = (await stored({ type: 'Folder', uniqueId: folderUid })) as Folder[];
      expect(touched!.lastUpdateTime! > fol!.lastUpdateTime!).to.equal(true);
      const folders = await sq(query(STORED_QUERY_ID.GetFoldersForDocument, [['$XDSDocumentEntryEntryUUID', `'${v2.entryUuid}'`]]));
      expect(listed(folders.body, 'RegistryPackage').map((f) => f.id)).to.deep.equal([fol!.entryUuid]);

      expect(status((await update(newVersion({ lid: v1!.entryUuid, docUid, previous: '2', propagation: 'no' }))).body)).to.equal('Success');
      const v3 = (await byUid(docUid)).find((v) => v.version === '3')!;
      expect(await stored({ type: 'Association', sourceUuid: fol!.entryUuid, targetUuid: v3.entryUuid })).to.deep.equal([]);
    });
  });

  describe('a new version of a Folder', () => {
    it('supersedes the folder, carries its members, and GetFolderAndContents shows both versions only at level 2', async () => {
      const docUid = uid();
      const folderUid = uid();
      await register(epikriseInFolder(PATIENT, docUid, folderUid));
      const [f1] = (await stored({ type: 'Folder', uniqueId: folderUid })) as Folder[];
      const res = await update(newFolderVersion(PATIENT, folderUid, f1!.entryUuid, '1'));
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      const versions = (await stored({ type: 'Folder', uniqueId: folderUid })) as Folder[];
      const f2 = versions.find((f) => f.entryUuid !== f1!.entryUuid)!;
      expect(f2).to.include({ logicalUuid: f1!.entryUuid, version: '2', availabilityStatus: 'Approved' });
      expect(versions.find((f) => f.entryUuid === f1!.entryUuid)!.availabilityStatus).to.equal('Deprecated');

      const contents = (level: string) => sq(query(STORED_QUERY_ID.GetFolderAndContents, [['$XDSFolderUniqueId', `'${folderUid}'`], ['$MetadataLevel', level]]));
      const level1 = await contents('1');
      expect(listed(level1.body, 'RegistryPackage').map((f) => f.version)).to.deep.equal(['2']);
      expect(listed(level1.body, 'ExtrinsicObject')).to.have.length(1);
      const level2 = await contents('2');
      expect(listed(level2.body, 'RegistryPackage').map((f) => f.version).sort()).to.deep.equal(['1', '2']);
      expect(listed(level2.body, 'Association')).to.have.length(2);
    });

    it('a folder of another patient with members → XDSPatientIDReconciliationError', async () => {
      const folderUid = uid();
      await register(epikriseInFolder(PATIENT, uid(), folderUid));
      const [f1] = (await stored({ type: 'Folder', uniqueId: folderUid })) as Folder[];
      const res = await update(newFolderVersion(OTHER, folderUid, f1!.entryUuid, '1'));
      expect(errorCodes(res.body)).to.deep.equal(['XDSPatientIDReconciliationError']);
    });
  });

  describe('status changes (UpdateAvailabilityStatus)', () => {
    it('deprecates and approves again the latest version; FindDocuments follows; $MetadataLevel 2 still finds it by id', async () => {
      const v1 = await registered();
      const find = (s: string) =>
        sq(query(STORED_QUERY_ID.FindDocuments, [['$XDSDocumentEntryPatientId', `'${PATIENT}'`], ['$XDSDocumentEntryStatus', `('${STATUS}${s}')`]]));
      const ids = async (s: string) => listed((await find(s)).body, 'ExtrinsicObject').map((d) => d.id);

      expect(status((await update(statusChange(v1.entryUuid, 'Approved', 'Deprecated'))).body)).to.equal('Success');
      expect(await ids('Approved')).to.not.include(v1.entryUuid);
      // Deprecated, but the latest version: a level 1 consumer sees it among the deprecated.
      expect(await ids('Deprecated')).to.include(v1.entryUuid);

      expect(status((await update(statusChange(v1.entryUuid, 'Deprecated', 'Approved'))).body)).to.equal('Success');
      expect(await ids('Approved')).to.include(v1.entryUuid);
      expect((await byUid(v1.uniqueId!))[0]!.availabilityStatus).to.equal('Approved');
    });

    it('an OriginalStatus that is not the current status, or a version that is not the latest → XDSMetadataUpdateError', async () => {
      const v1 = await registered();
      expect(errorCodes((await update(statusChange(v1.entryUuid, 'Deprecated', 'Approved'))).body)).to.deep.equal(['XDSMetadataUpdateError']);
      expect(status((await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1' }))).body)).to.equal('Success');
      // Version 1 is Deprecated now, superseded: it does not come back (NIST 15802b).
      expect(errorCodes((await update(statusChange(v1.entryUuid, 'Deprecated', 'Approved'))).body)).to.deep.equal(['XDSMetadataUpdateError']);
      expect((await byUid(v1.uniqueId!)).find((v) => v.version === '1')!.availabilityStatus).to.equal('Deprecated');
    });

    it('a new version and a status change of it in one request: the new version takes the NewStatus (ITI TF-2 3.57.4.1.3.1)', async () => {
      const v1 = await registered();
      const both = newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1' }).replace(
        '</rim:RegistryObjectList>',
        `<rim:Association id="up01" associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus" sourceObject="SubmissionSet01" targetObject="Document01">` +
          `${slot('OriginalStatus', `${STATUS}Approved`)}${slot('NewStatus', `${STATUS}Deprecated`)}</rim:Association></rim:RegistryObjectList>`,
      );
      const res = await update(both);
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      expect((await byUid(v1.uniqueId!)).map((v) => [v.version, v.availabilityStatus]).sort()).to.deep.equal([
        ['1', 'Deprecated'],
        ['2', 'Deprecated'],
      ]);
    });

    it('the status of a SubmissionSet or Folder → XDSMetadataUpdateOperationError', async () => {
      const docUid = uid();
      const folderUid = uid();
      await register(epikriseInFolder(PATIENT, docUid, folderUid));
      const [f1] = (await stored({ type: 'Folder', uniqueId: folderUid })) as Folder[];
      const [ss] = await stored({ type: 'SubmissionSet', patientId: PATIENT });
      expect(errorCodes((await update(statusChange(f1!.entryUuid, 'Approved', 'Deprecated'))).body)).to.deep.equal(['XDSMetadataUpdateOperationError']);
      expect(errorCodes((await update(statusChange(ss!.entryUuid, 'Approved', 'Deprecated'))).body)).to.deep.equal(['XDSMetadataUpdateOperationError']);
    });
  });

  describe('associations submitted between registered objects (SubmitAssociation)', () => {
    it('an APND between two approved documents; its status change; GetRelatedDocuments by level and $XDSAssociationStatus', async () => {
      const a = await registered();
      const b = await registered();
      const res = await update(submitAssociation('urn:ihe:iti:2007:AssociationType:APND', b.entryUuid, a.entryUuid));
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      const related = (...extra: [string, string][]) =>
        sq(query(STORED_QUERY_ID.GetRelatedDocuments, [['$XDSDocumentEntryEntryUUID', `'${a.entryUuid}'`], ['$AssociationTypes', "('urn:ihe:iti:2007:AssociationType:APND')"], ...extra]));
      const [apnd] = listed((await related()).body, 'Association');
      expect(apnd!.status).to.equal('Approved');

      expect(status((await update(statusChange(apnd!.id, 'Approved', 'Deprecated'))).body)).to.equal('Success');
      expect(listed((await related()).body, 'ExtrinsicObject')).to.deep.equal([]);
      const both = await related(['$MetadataLevel', '2'], ['$XDSAssociationStatus', `('${STATUS}Approved','${STATUS}Deprecated')`]);
      expect(listed(both.body, 'Association').map((x) => x.status)).to.deep.equal(['Deprecated']);
      expect(listed(both.body, 'ExtrinsicObject')).to.have.length(2);
      // Level 1 never shows a deprecated association, whatever $XDSAssociationStatus asks for.
      expect(listed((await related(['$XDSAssociationStatus', `('${STATUS}Deprecated')`])).body, 'Association')).to.deep.equal([]);
    });

    it('an end that is Deprecated, or the same association again → XDSMetadataUpdateError; RPLC → XDSMetadataUpdateOperationError', async () => {
      const a = await registered();
      const b = await registered();
      const apnd = 'urn:ihe:iti:2007:AssociationType:APND';
      expect(status((await update(statusChange(a.entryUuid, 'Approved', 'Deprecated'))).body)).to.equal('Success');
      expect(errorCodes((await update(submitAssociation(apnd, b.entryUuid, a.entryUuid))).body)).to.deep.equal(['XDSMetadataUpdateError']);
      expect(status((await update(statusChange(a.entryUuid, 'Deprecated', 'Approved'))).body)).to.equal('Success');
      expect(status((await update(submitAssociation(apnd, b.entryUuid, a.entryUuid))).body)).to.equal('Success');
      expect(errorCodes((await update(submitAssociation(apnd, b.entryUuid, a.entryUuid))).body)).to.deep.equal(['XDSMetadataUpdateError']);
      expect(errorCodes((await update(submitAssociation('urn:ihe:iti:2007:AssociationType:RPLC', b.entryUuid, a.entryUuid))).body)).to.deep.equal([
        'XDSMetadataUpdateOperationError',
      ]);
    });

    it("a relationship between two patients' documents, or a folder membership across patients → XDSPatientIDReconciliationError", async () => {
      const a = await registered(PATIENT);
      const b = await registered(OTHER);
      const apnd = await update(submitAssociation('urn:ihe:iti:2007:AssociationType:APND', b.entryUuid, a.entryUuid));
      expect(errorCodes(apnd.body)).to.deep.equal(['XDSPatientIDReconciliationError']);
      const folderUid = uid();
      await register(epikriseInFolder(PATIENT, uid(), folderUid));
      const [f] = (await stored({ type: 'Folder', uniqueId: folderUid })) as Folder[];
      const member = await update(submitAssociation(HAS_MEMBER, f!.entryUuid, b.entryUuid));
      expect(errorCodes(member.body)).to.deep.equal(['XDSPatientIDReconciliationError']);
    });

    it('a document added to a folder: the folder holds it and its lastUpdateTime moves', async () => {
      const folderUid = uid();
      await register(epikriseInFolder(PATIENT, uid(), folderUid));
      const [f] = (await stored({ type: 'Folder', uniqueId: folderUid })) as Folder[];
      const doc = await registered();
      await new Promise((r) => setTimeout(r, 1100));
      expect(status((await update(submitAssociation(HAS_MEMBER, f!.entryUuid, doc.entryUuid))).body)).to.equal('Success');
      expect(await stored({ type: 'Association', sourceUuid: f!.entryUuid, targetUuid: doc.entryUuid })).to.have.length(1);
      const [after] = (await stored({ type: 'Folder', uniqueId: folderUid })) as Folder[];
      expect(after!.lastUpdateTime! > f!.lastUpdateTime!).to.equal(true);
    });
  });

  describe('what ITI-42 refuses now, and the IPF-style update message', () => {
    it('ITI-42 with a lid other than the id, or with PreviousVersion → XDSRegistryMetadataError; a VersionInfo sent is not kept', async () => {
      const v1 = await registered();
      const withLid = epikrise({ patient: PATIENT }).xml.replace('<rim:ExtrinsicObject id="Document01"', `<rim:ExtrinsicObject id="Document01" lid="${v1.entryUuid}"`);
      const res1 = await postSoap(url, ACTIONS.iti42.request, withLid);
      expect(errorCodes(res1.body)).to.include('XDSRegistryMetadataError');
      const withPrevious = epikrise({ patient: PATIENT }).xml.replace(/(<rim:Slot name="SubmissionSetStatus">[\s\S]*?<\/rim:Slot>)/, `$1${slot('PreviousVersion', '1')}`);
      expect(errorCodes((await postSoap(url, ACTIONS.iti42.request, withPrevious)).body)).to.deep.equal(['XDSRegistryMetadataError']);
      const docUid = uid();
      await register(epikrise({ patient: PATIENT, docUid }).xml.replace('<rim:Name><rim:LocalizedString xml:lang="nb-NO"', '<rim:VersionInfo versionName="7"/><rim:Name><rim:LocalizedString xml:lang="nb-NO"'));
      const [registeredDoc] = await byUid(docUid);
      expect(registeredDoc).to.include({ version: '1', logicalUuid: registeredDoc!.entryUuid });
    });

    it("takes IPF's update shape (home=\"\", VersionInfo on every part, documentAvailability) and hides an Offline entry at level 1", async () => {
      const v1 = await registered();
      const ipfStyle = newVersion({
        lid: v1.entryUuid,
        docUid: v1.uniqueId!,
        previous: '1',
        edit: (xml) =>
          xml
            .replace('<rim:ExtrinsicObject id="Document01"', '<rim:ExtrinsicObject home="" status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved" id="Document01"')
            .replace('<rim:Slot name="creationTime">', `${slot('documentAvailability', 'urn:ihe:iti:2010:DocumentAvailability:Offline')}<rim:Slot name="creationTime">`)
            .replace('<rim:Classification id="cl01"', '<rim:VersionInfo versionName="1"/><rim:Classification id="cl01"'),
      });
      const res = await update(ipfStyle);
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      const v2 = (await byUid(v1.uniqueId!)).find((v) => v.version === '2')!;
      expect(v2.documentAvailability).to.equal('urn:ihe:iti:2010:DocumentAvailability:Offline');
      const get = (level: string) => sq(query(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryEntryUUID', `('${v2.entryUuid}')`], ['$MetadataLevel', level]]));
      expect(listed((await get('1')).body, 'ExtrinsicObject')).to.deep.equal([]);
      const level2 = await get('2');
      expect(listed(level2.body, 'ExtrinsicObject').map((d) => d.id)).to.deep.equal([v2.entryUuid]);
      expect(level2.text).to.contain('urn:ihe:iti:2010:DocumentAvailability:Offline');
    });
  });

  describe('$MetadataLevel and $XDSAssociationStatus as parameters', () => {
    const failureCodes = (run: () => unknown): string[] => {
      try {
        run();
        return [];
      } catch (e) {
        return (e as RegistryFailure).errors.map((x) => x.code);
      }
    };
    const slotOf = (name: string, ...values: string[]) => ({ name, values });

    it('every stored query takes them; $MetadataLevel is 1 or 2', () => {
      for (const table of Object.values(PARAMETER_TABLES)) {
        expect(table.params.map((p) => p.name)).to.include.members(['$MetadataLevel', '$XDSAssociationStatus']);
      }
      const base = [slotOf('$XDSDocumentEntryEntryUUID', "('urn:uuid:0e7b2a1c-4c8f-4a51-9a3e-2f1d7c6b5a49')")];
      expect(readParameters(PARAMETER_TABLES.GetDocuments, [...base, slotOf('$MetadataLevel', '2')]).single('$MetadataLevel')).to.equal('2');
      expect(failureCodes(() => readParameters(PARAMETER_TABLES.GetDocuments, [...base, slotOf('$MetadataLevel', '3')]))).to.deep.equal(['XDSRegistryError']);
      expect(failureCodes(() => readParameters(PARAMETER_TABLES.GetDocuments, [...base, slotOf('$MetadataLevel', '1', '2')]))).to.deep.equal(['XDSStoredQueryParamNumber']);
    });

    it('GetDocuments takes one of entryUUID, uniqueId and logicalID', () => {
      const two = [slotOf('$XDSDocumentEntryUniqueId', "('1.2.3')"), slotOf('$XDSDocumentEntryLogicalID', "('urn:uuid:0e7b2a1c-4c8f-4a51-9a3e-2f1d7c6b5a49')")];
      expect(failureCodes(() => readParameters(PARAMETER_TABLES.GetDocuments, two))).to.deep.equal(['XDSStoredQueryParamNumber']);
      expect(failureCodes(() => readParameters(PARAMETER_TABLES.GetFolders, []))).to.deep.equal(['XDSStoredQueryMissingParam']);
    });

    it('over HTTP: $MetadataLevel 3 → XDSRegistryError', async () => {
      const res = await sq(query(STORED_QUERY_ID.GetDocuments, [['$XDSDocumentEntryUniqueId', "('1.2.3')"], ['$MetadataLevel', '3']]));
      expect(errorCodes(res.body)).to.deep.equal(['XDSRegistryError']);
    });
  });

  it('keeps the update objects readable: the SubmissionSet, its HasMember with PreviousVersion, and GetSubmissionSetAndContents of the update', async () => {
    const v1 = await registered();
    expect(status((await update(newVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '1' }))).body)).to.equal('Success');
    const v2 = (await byUid(v1.uniqueId!)).find((v) => v.version === '2')!;
    const [membership] = (await stored({ type: 'Association', associationType: HAS_MEMBER, targetUuid: v2.entryUuid })) as Association[];
    expect(membership!.previousVersion).to.equal('1');
    const set = (await node.registry.store.getByUuids([membership!.sourceUuid])) as RegistryObject[];
    expect(set[0]!.type).to.equal('SubmissionSet');
    const contents = await sq(query(STORED_QUERY_ID.GetSubmissionSetAndContents, [['$XDSSubmissionSetEntryUUID', `'${membership!.sourceUuid}'`]]));
    expect(listed(contents.body, 'ExtrinsicObject').map((d) => d.id)).to.deep.equal([v2.entryUuid]);
    expect(contents.text).to.contain('PreviousVersion');
  });
});
