/**
 * The ITI-92 rule list as pure functions (registry/validate/iti92.ts): what it takes over from
 * ITI-57 and what it leaves out, a valid restricted update passing, and each RMU rule reporting its
 * one code at the submitted id. A final check makes sure every RMU-* rule has a case.
 */
import { expect } from 'chai';
import type { ErrorCode } from '../../registry/model/errors.js';
import type { DocumentEntry, Folder, RegistryObject, Submission } from '../../registry/model/metadata.js';
import { iti57Rules, iti92Rules, validateRestrictedUpdate, type UpdateState } from '../../registry/validate/index.js';
import { association, documentEntry, folder, OTHER_PATIENT, policy, submissionSet } from '../validate/fixtures.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
const LID = 'urn:uuid:11111111-1111-4111-8111-111111111111';
const STATUS = 'urn:oasis:names:tc:ebxml-regrep:StatusType:';

const v1 = documentEntry(LID, { logicalUuid: LID, version: '1', documentAvailability: 'urn:ihe:iti:2010:DocumentAvailability:Online' });

function contextOf(latest: DocumentEntry) {
  const registered: RegistryObject[] = [latest];
  const versions = new Map<string, (DocumentEntry | Folder)[]>([[LID, [latest]]]);
  const state: UpdateState = { versions, linksOfLatest: new Map(), between: new Map() };
  return {
    patientIds: policy,
    homeCommunityId: HOME,
    registry: { byUuid: new Map(registered.map((o) => [o.entryUuid, o])), byUniqueId: new Map([[latest.uniqueId!, registered]]) },
    update: state,
  };
}

/** A valid restricted update: version 2 of LID (PreviousVersion 1), other title. */
function newVersion(doc: Partial<DocumentEntry> = {}, extra: Partial<Submission> = {}): Submission {
  const entry = documentEntry('Document01', { ...v1, entryUuid: 'Document01', logicalUuid: LID, version: undefined, availabilityStatus: 'Submitted', title: { value: 'ny' }, ...doc });
  return {
    submissionSet: submissionSet(),
    documentEntries: [entry],
    folders: [],
    associations: [association('as01', 'HasMember', 'SubmissionSet01', 'Document01', { submissionSetStatus: 'Original', previousVersion: '1' })],
    objectRefs: [],
    ...extra,
  };
}

const run = (submission: Submission, latest: DocumentEntry = v1) => validateRestrictedUpdate(submission, contextOf(latest));

interface Case {
  readonly rule: string;
  readonly why: string;
  readonly submission: () => Submission;
  readonly code: ErrorCode;
  readonly location: string;
}

const cases: Case[] = [
  { rule: 'RMU-homeCommunityId', why: 'the entry names another community', submission: () => newVersion({ homeCommunityId: 'urn:oid:2.16.578.1.12.4.5.100.2' }), code: 'XDSUnknownCommunity', location: 'Document01' },
  { rule: 'RMU-operation-present', why: 'a SubmissionSet alone', submission: () => newVersion({}, { documentEntries: [], associations: [] }), code: 'XDSMetadataUpdateOperationError', location: 'SubmissionSet01' },
  {
    rule: 'RMU-no-folder',
    why: 'a Folder beside the new version',
    submission: () => newVersion({}, { folders: [folder('Folder01')], associations: [...newVersion().associations, association('as02', 'HasMember', 'SubmissionSet01', 'Folder01')] }),
    code: 'XDSMetadataUpdateOperationError',
    location: 'Folder01',
  },
  {
    rule: 'RMU-association-kind',
    why: 'a status change beside the new version',
    submission: () =>
      newVersion({}, { associations: [...newVersion().associations, association('up01', 'UpdateAvailabilityStatus', 'SubmissionSet01', LID, { originalStatus: `${STATUS}Approved`, newStatus: `${STATUS}Deprecated` })] }),
    code: 'XDSMetadataUpdateOperationError',
    location: 'up01',
  },
  { rule: 'RMU-same-patientId', why: 'another patient', submission: () => newVersion({ patientId: OTHER_PATIENT }, { submissionSet: submissionSet('SubmissionSet01', { patientId: OTHER_PATIENT }) }), code: 'XDSPatientIDReconciliationError', location: 'Document01' },
  { rule: 'RMU-same-sourcePatientId', why: 'another sourcePatientId', submission: () => newVersion({ sourcePatientId: OTHER_PATIENT }), code: 'UnmodifiableMetadataError', location: 'Document01' },
  { rule: 'RMU-same-documentAvailability', why: 'Offline', submission: () => newVersion({ documentAvailability: 'urn:ihe:iti:2010:DocumentAvailability:Offline' }), code: 'UnmodifiableMetadataError', location: 'Document01' },
  { rule: 'RMU-same-repositoryUniqueId', why: 'another repository', submission: () => newVersion({ repositoryUniqueId: '1.2.3.4' }), code: 'UnmodifiableMetadataError', location: 'Document01' },
  { rule: 'RMU-same-availabilityStatus', why: 'status Deprecated sent for an Approved entry', submission: () => newVersion({ availabilityStatus: 'Deprecated' }), code: 'UnmodifiableMetadataError', location: 'Document01' },
];

describe('ITI-92 rules', () => {
  it('are the ITI-57 version rules without MU-latest-approved and MU-patient-change, without the status and submit rules', () => {
    const ids = new Set(iti92Rules.map((r) => r.id));
    for (const kept of ['MU-logical-id', 'MU-logical-id-once', 'MU-previous-version-latest', 'MU-logical-object-registered', 'MU-same-uniqueId', 'MU-same-objectType']) expect(ids, kept).to.include(kept);
    for (const left of ['MU-latest-approved', 'MU-patient-change', 'MU-operation-present', 'MU-status-original', 'MU-submitted-new', 'SUB-homeCommunityId']) expect(ids, left).to.not.include(left);
    // No id is used twice (a rule picked twice would report twice).
    expect(ids.size).to.equal(iti92Rules.length);
    expect(iti57Rules.some((r) => r.id === 'MU-latest-approved')).to.equal(true);
  });

  it('pass a valid restricted update, with the modifiable attributes changed', () => {
    expect(run(newVersion({ title: { value: 'korrigert' }, hash: 'ffffffffffffffffffffffffffffffffffffffff', size: '12' }))).to.deep.equal([]);
  });

  it('pass an update of a Deprecated latest version (CP 1190, NIST 12319)', () => {
    expect(run(newVersion(), { ...v1, availabilityStatus: 'Deprecated' })).to.deep.equal([]);
  });

  for (const c of cases) {
    it(`${c.rule}: ${c.why} → ${c.code} at ${c.location}`, () => {
      const errors = run(c.submission()).filter((e) => e.severity === 'Error');
      expect(errors.map((e) => [e.code, e.location])).to.deep.include([c.code, c.location]);
      const rule = iti92Rules.find((r) => r.id === c.rule)!;
      expect(rule.errorCode).to.equal(c.code);
    });
  }

  it('every RMU-* rule has a case', () => {
    const covered = new Set(cases.map((c) => c.rule));
    expect(iti92Rules.filter((r) => r.id.startsWith('RMU-') && !covered.has(r.id)).map((r) => r.id)).to.deep.equal([]);
  });
});
