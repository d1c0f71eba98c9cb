/**
 * ITI-92 Restricted Update Document Set at the registry (RMU, XDS Persistence Option), over real
 * HTTP: a new DocumentEntry version that changes what RMU lets change, the Deprecated latest version
 * that RMU may update (its new version stays Deprecated, NIST 12319), each refusal with its error
 * code (the unmodifiable attributes one by one, the operations RMU does not have, the version
 * rules it shares with ITI-57), atomicity, an RMU and an ITI-57 update racing for one logical
 * DocumentEntry, and the audit event. (The NIST reg_rmu plans run in
 * test/integration/nist-conformance.) The requests: test/gateway/iti92-messages.ts.
 */
import { expect } from 'chai';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, descendants } from '../../registry/xml/tree.js';
import { cx, epikrise, errorCodes, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { auditRows, HOME, OTHER_FNR } from '../wiring/helpers.js';
import {
  addToEntry,
  append,
  deprecate,
  entryAttributes,
  PATIENT,
  rmuVersion,
  secondEntry,
  setConfidentiality,
  setRepositoryUniqueId,
  setSourcePatientId,
  slot,
  STATUS,
  xmlEscape,
} from '../gateway/iti92-messages.js';

const OTHER = cx(OTHER_FNR);
const HAS_MEMBER = 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember';

describe('ITI-92 Restricted Update Document Set at the registry (XDS Persistence Option)', function () {
  this.timeout(60_000);
  let node: TestNode;
  let url: string;

  const rmu = (body: string) => postSoap(url, ACTIONS.iti92.request, body);
  const register = async (body: string): Promise<void> => {
    const res = await postSoap(url, ACTIONS.iti42.request, body);
    expect(status(res.body), `ITI-42: ${errorCodes(res.body).join(' ')}`).to.equal('Success');
  };
  const versionsOf = async (docUid: string) => (await node.registry.store.find({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];

  /** Registers an epikrise and returns its DocumentEntry. */
  async function registered(patient = PATIENT): Promise<DocumentEntry> {
    const docUid = uid();
    await register(epikrise({ patient, docUid }).xml);
    return (await versionsOf(docUid))[0]!;
  }

  before(async () => {
    node = await startTestNode();
    url = `${node.url}/xds/registry`;
  });
  after(async () => node?.close());

  describe('a new version', () => {
    it('is version 2 of the same lid with the changed attributes, Approved; the first becomes Deprecated; audited as ITI-92', async () => {
      const v1 = await registered();
      const auditedBefore = auditRows(node.dataDir).length;
      const changes = (xml: string): string =>
        xml
          // confidentialityCode, hash and size, an extra slot: all modifiable.
          .replace('nodeRepresentation="N">', 'nodeRepresentation="R">')
          .replace('da39a3ee5e6b4b0d3255bfef95601890afd80709', '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12')
          .replace(/(<rim:Slot name="size"><rim:ValueList><rim:Value>)0/, '$143')
          .replace('Indremedisinsk avdeling', 'Medisinsk klinikk');
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, title: 'Epikrise, korrigert', edit: changes }));
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      expect(res.text).to.contain(ACTIONS.iti92.response);

      const versions = await versionsOf(v1.uniqueId!);
      expect(versions).to.have.length(2);
      const v2 = versions.find((v) => v.entryUuid !== v1.entryUuid)!;
      expect(v2).to.include({ logicalUuid: v1.entryUuid, version: '2', availabilityStatus: 'Approved', size: '43' });
      expect(v2.title?.value).to.equal('Epikrise, korrigert');
      expect(v2.confidentialityCodes.map((c) => c.code)).to.deep.equal(['R']);
      expect(v2.extra.slots.find((s) => s.name === 'urn:no:nhn:xds:extra:department')?.values).to.deep.equal(['Medisinsk klinikk']);
      expect(versions.find((v) => v.entryUuid === v1.entryUuid)).to.include({ version: '1', availabilityStatus: 'Deprecated' });

      const events = auditRows(node.dataDir).slice(auditedBefore).filter((r) => r.access.transaction === 'ITI-92');
      expect(events).to.have.length(1);
      expect(events[0]!.access.outcome).to.equal('success');
      expect(events[0]!.access.documents).to.include(v1.uniqueId);
      expect(PATIENT.startsWith(`${events[0]!.patientId}^^^`)).to.equal(true);
      expect(events[0]!.resource).to.contain('Restricted Update Document Set');
    });

    it('of a Deprecated latest version is allowed and stays Deprecated (NIST 12319); ITI-57 still refuses it', async () => {
      const v1 = await registered();
      expect(status((await postSoap(url, ACTIONS.iti57.request, deprecate(v1.entryUuid))).body)).to.equal('Success');
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: setConfidentiality('R') }));
      expect(status(res.body), errorCodes(res.body).join(' ')).to.equal('Success');
      const versions = await versionsOf(v1.uniqueId!);
      expect(versions.map((v) => [v.version, v.availabilityStatus]).sort()).to.deep.equal([
        ['1', 'Deprecated'],
        ['2', 'Deprecated'],
      ]);
      // The latest version is found by its entryUUID at $MetadataLevel 1, Deprecated, version 2 (12319's verification).
      const v2 = versions.find((v) => v.version === '2')!;
      const q =
        `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}"><query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>` +
        `<rim:AdhocQuery id="${STORED_QUERY_ID.GetDocuments}">${slot('$XDSDocumentEntryEntryUUID', `('${v2.entryUuid}')`)}${slot('$MetadataLevel', '1')}</rim:AdhocQuery></query:AdhocQueryRequest>`;
      const found = descendants((await postSoap(url, ACTIONS.iti18.request, q)).body, NS.rim, 'ExtrinsicObject');
      expect(found.map((e) => [e.attrs['status'], childElement(e, NS.rim, 'VersionInfo')?.attrs['versionName']])).to.deep.equal([[`${STATUS}Deprecated`, '2']]);
      // ITI-57 does not update a deprecated logical DocumentEntry.
      const mu = await postSoap(url, ACTIONS.iti57.request, rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, previous: '2' }));
      expect(errorCodes(mu.body)).to.deep.equal(['XDSMetadataUpdateError']);
    });

    it('may name this community in home, as urn:oid: or bare', async () => {
      for (const home of [HOME, HOME.slice('urn:oid:'.length)]) {
        const v1 = await registered();
        const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: entryAttributes(`home="${home}"`) }));
        expect(status(res.body), `${home}: ${errorCodes(res.body).join(' ')}`).to.equal('Success');
      }
    });
  });

  describe('refused, nothing stored, one code each', () => {
    /** Sends the request and expects exactly these codes, with the logical DocumentEntry still at one version. */
    async function refused(v1: DocumentEntry, body: string, codes: string[]): Promise<void> {
      const res = await rmu(body);
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.deep.equal(codes);
      expect((await versionsOf(v1.uniqueId!)).map((v) => [v.version, v.availabilityStatus])).to.deep.equal([['1', 'Approved']]);
    }

    it('a lid no registered object has → XDSMetadataVersionError', async () => {
      const res = await rmu(rmuVersion({ lid: 'urn:uuid:0b8b4a1e-1f2c-4d3e-8a5b-6c7d8e9f0a1b', docUid: uid() }));
      expect(errorCodes(res.body)).to.deep.equal(['XDSMetadataVersionError']);
    });

    it('PreviousVersion that is not the latest version → XDSMetadataVersionError', async () => {
      const v1 = await registered();
      expect(status((await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId! }))).body)).to.equal('Success');
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, title: 'stale' }));
      expect(errorCodes(res.body)).to.deep.equal(['XDSMetadataVersionError']);
      expect((await versionsOf(v1.uniqueId!)).map((v) => v.version).sort()).to.deep.equal(['1', '2']);
    });

    it('an initial version sent as an update (no lid) → XDSMetadataUpdateError', async () => {
      const res = await rmu(rmuVersion({ docUid: uid() }));
      expect(errorCodes(res.body)).to.deep.equal(['XDSMetadataUpdateError']);
    });

    it('another uniqueId → XDSMetadataIdentifierError', async () => {
      const v1 = await registered();
      await refused(v1, rmuVersion({ lid: v1.entryUuid, docUid: uid() }), ['XDSMetadataIdentifierError']);
    });

    it('another patientId → XDSPatientIDReconciliationError (even with nothing linked to the entry)', async () => {
      const v1 = await registered();
      await refused(v1, rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, patient: OTHER, edit: setSourcePatientId(PATIENT) }), ['XDSPatientIDReconciliationError']);
    });

    it('another sourcePatientId → UnmodifiableMetadataError', async () => {
      const v1 = await registered();
      await refused(v1, rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: setSourcePatientId(OTHER) }), ['UnmodifiableMetadataError']);
    });

    it('another repositoryUniqueId → UnmodifiableMetadataError', async () => {
      const v1 = await registered();
      await refused(v1, rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: setRepositoryUniqueId('2.16.578.1.12.4.5.100.1.3') }), ['UnmodifiableMetadataError']);
    });

    it('documentAvailability Offline (registered Online by default) → UnmodifiableMetadataError; Online as sent is no change', async () => {
      const v1 = await registered();
      const availability = (v: string) => addToEntry(slot('documentAvailability', `urn:ihe:iti:2010:DocumentAvailability:${v}`));
      await refused(v1, rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: availability('Offline') }), ['UnmodifiableMetadataError']);
      expect(status((await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: availability('Online') }))).body)).to.equal('Success');
    });

    it('another objectType (stable → on-demand) → UnmodifiableMetadataError', async () => {
      const v1 = await registered();
      const edit = (x: string) => x.replace('objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"', 'objectType="urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"');
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit }));
      // An on-demand entry is also no Register Document Set-b entry (DE-objectType-stable, as for ITI-57).
      expect(errorCodes(res.body)).to.include('UnmodifiableMetadataError');
      expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
    });

    it('a status attribute other than the registered one (NIST 40001b/availStatus) → UnmodifiableMetadataError', async () => {
      const v1 = await registered();
      await refused(v1, rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: entryAttributes(`status="${STATUS}Deprecated"`) }), ['UnmodifiableMetadataError']);
    });

    it('a required attribute left out (NIST 40000d) → XDSRegistryMetadataError, not a change', async () => {
      const v1 = await registered();
      const edit = (x: string) => x.replace(/<rim:Slot name="repositoryUniqueId">[\s\S]*?<\/rim:Slot>/, '');
      await refused(v1, rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit }), ['XDSRegistryMetadataError']);
    });

    it('home naming another community → XDSUnknownCommunity', async () => {
      const v1 = await registered();
      await refused(v1, rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: entryAttributes('home="urn:oid:2.16.578.1.12.4.5.100.2"') }), ['XDSUnknownCommunity']);
    });

    it('a status change (UpdateAvailabilityStatus) is no RMU operation → XDSMetadataUpdateOperationError', async () => {
      const v1 = await registered();
      const res = await rmu(deprecate(v1.entryUuid));
      expect(status(res.body)).to.equal('Failure');
      const codes = errorCodes(res.body);
      expect(codes).to.not.be.empty;
      expect(new Set(codes)).to.deep.equal(new Set(['XDSMetadataUpdateOperationError']));
      expect((await versionsOf(v1.uniqueId!))[0]!.availabilityStatus).to.equal('Approved');
    });

    it('a SubmitAssociation beside a new version → XDSMetadataUpdateOperationError', async () => {
      const v1 = await registered();
      const other = await registered();
      const edit = append(
        `<rim:Association id="sa01" associationType="urn:ihe:iti:2010:AssociationType:SubmitAssociation" sourceObject="SubmissionSet01" targetObject="ap01"/>` +
          `<rim:Association id="ap01" associationType="urn:ihe:iti:2007:AssociationType:APND" sourceObject="${other.entryUuid}" targetObject="${v1.entryUuid}"/>`,
      );
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit }));
      expect(new Set(errorCodes(res.body))).to.deep.equal(new Set(['XDSMetadataUpdateOperationError']));
      expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
      expect(await node.registry.store.find({ type: 'Association', sourceUuid: other.entryUuid })).to.deep.equal([]);
    });

    it('a Folder → XDSMetadataUpdateOperationError', async () => {
      const v1 = await registered();
      const folder =
        `<rim:RegistryPackage id="Folder01"><rim:Name><rim:LocalizedString value="Mappe"/></rim:Name>` +
        `<rim:Classification id="clf1" classificationScheme="urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5" classifiedObject="Folder01" nodeRepresentation="A00-1">${slot('codingScheme', '2.16.578.1.12.4.1.1.9602')}<rim:Name><rim:LocalizedString value="Epikriser"/></rim:Name></rim:Classification>` +
        `<rim:ExternalIdentifier id="eif1" identificationScheme="urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a" registryObject="Folder01" value="${xmlEscape(PATIENT)}"/>` +
        `<rim:ExternalIdentifier id="eif2" identificationScheme="urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a" registryObject="Folder01" value="${uid()}"/></rim:RegistryPackage>` +
        `<rim:Classification id="clf0" classifiedObject="Folder01" classificationNode="urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"/>` +
        `<rim:Association id="asf1" associationType="${HAS_MEMBER}" sourceObject="SubmissionSet01" targetObject="Folder01"/>`;
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: append(folder) }));
      expect(new Set(errorCodes(res.body))).to.deep.equal(new Set(['XDSMetadataUpdateOperationError']));
      expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
    });

    it('two new versions of one lid in one request (NIST 40007) → XDSMetadataUpdateOperationError', async () => {
      const v1 = await registered();
      const second = secondEntry(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId! }));
      const res = await rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, edit: append(second) }));
      expect(status(res.body)).to.equal('Failure');
      expect(errorCodes(res.body)).to.include('XDSMetadataUpdateOperationError');
      expect(await versionsOf(v1.uniqueId!)).to.have.length(1);
    });
  });

  it('is atomic: one refused version in a request leaves the other logical entry unchanged too', async () => {
    const a = await registered();
    const b = await registered();
    // b's new version moves the document to another repository: refused; a's is fine on its own.
    const badB = secondEntry(rmuVersion({ lid: b.entryUuid, docUid: b.uniqueId!, edit: setRepositoryUniqueId('2.16.578.1.12.4.5.100.1.3') }));
    const both = rmuVersion({ lid: a.entryUuid, docUid: a.uniqueId!, title: 'ny', edit: append(badB) });
    const res = await rmu(both);
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['UnmodifiableMetadataError']);
    expect(await versionsOf(a.uniqueId!)).to.have.length(1);
    expect(await versionsOf(b.uniqueId!)).to.have.length(1);
    // Without b's change, both versions are made in one commit.
    const good = rmuVersion({ lid: a.entryUuid, docUid: a.uniqueId!, edit: append(secondEntry(rmuVersion({ lid: b.entryUuid, docUid: b.uniqueId! }))) });
    expect(status((await rmu(good)).body), 'both versions').to.equal('Success');
    expect(await versionsOf(a.uniqueId!)).to.have.length(2);
    expect(await versionsOf(b.uniqueId!)).to.have.length(2);
  });

  it('an RMU and an ITI-57 update of one logical entry at once: one succeeds, the other gets XDSMetadataVersionError', async () => {
    const v1 = await registered();
    const [a, b] = await Promise.all([
      rmu(rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, title: 'RMU' })),
      postSoap(url, ACTIONS.iti57.request, rmuVersion({ lid: v1.entryUuid, docUid: v1.uniqueId!, title: 'MU' })),
    ]);
    const outcomes = [a, b].map((r) => (status(r.body) === 'Success' ? 'Success' : errorCodes(r.body).join(' '))).sort();
    expect(outcomes).to.deep.equal(['Success', 'XDSMetadataVersionError']);
    expect((await versionsOf(v1.uniqueId!)).map((v) => v.version).sort()).to.deep.equal(['1', '2']);
  });

  it('without a SubmitObjectsRequest body → SOAP fault', async () => {
    const res = await rmu(`<lcm:RemoveObjectsRequest xmlns:lcm="${NS.lcm}"/>`);
    expect(res.body.local).to.equal('Fault');
  });
});
