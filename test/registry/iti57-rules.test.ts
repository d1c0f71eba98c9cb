/**
 * The ITI-57 rules as pure functions (registry/validate/metadataUpdate.ts, iti57.ts): a valid update
 * passes; broken in one way, it gets that rule's one error code at the submitted id, and the rule
 * itself reports it. A final check makes sure every MU-* rule has a case. Also the two rules with
 * which ITI-42 now refuses update content (NIST 21000).
 */
import { expect } from 'chai';
import type { ErrorCode } from '../../registry/model/errors.js';
import type { Association, DocumentEntry, Folder, RegistryObject, Submission } from '../../registry/model/metadata.js';
import {
  iti57Rules,
  notAnUpdateRules,
  registerRules,
  ruleContext,
  validateSubmission,
  validateUpdate,
  type RegistrySnapshot,
  type UpdateState,
} from '../../registry/validate/index.js';
import { association, documentEntry, folder, OTHER_PATIENT, policy, singleDocument, submissionSet } from '../validate/fixtures.js';

const LID = 'urn:uuid:11111111-1111-4111-8111-111111111111';
const OTHER_DOC = 'urn:uuid:22222222-2222-4222-8222-222222222222';
const FOLDER = 'urn:uuid:33333333-3333-4333-8333-333333333333';
const OLD_SET = 'urn:uuid:44444444-4444-4444-8444-444444444444';
const STATUS = 'urn:oasis:names:tc:ebxml-regrep:StatusType:';

/** Version 1 of the logical DocumentEntry LID, and what links it: its SubmissionSet and a folder. */
const v1 = documentEntry(LID, { logicalUuid: LID, version: '1' });
const otherDoc = documentEntry(OTHER_DOC, { logicalUuid: OTHER_DOC, version: '1' });
const theFolder = folder(FOLDER, { logicalUuid: FOLDER, version: '1' });
const oldSet = submissionSet(OLD_SET, { logicalUuid: OLD_SET, version: '1' });
const ssMembership = association('urn:uuid:55555555-5555-4555-8555-555555555555', 'HasMember', OLD_SET, LID, { submissionSetStatus: 'Original' });
const folderMembership = association('urn:uuid:66666666-6666-4666-8666-666666666666', 'HasMember', FOLDER, LID);

interface World {
  readonly registered: RegistryObject[];
  readonly links: Association[];
}
const WORLD: World = { registered: [v1, otherDoc, theFolder, oldSet, ssMembership], links: [ssMembership] };

function snapshotOf(objects: readonly RegistryObject[]): RegistrySnapshot {
  const byUuid = new Map(objects.map((o) => [o.entryUuid, o]));
  const byUniqueId = new Map<string, RegistryObject[]>();
  for (const o of objects) {
    const u = (o as { uniqueId?: string }).uniqueId;
    if (u) byUniqueId.set(u, [...(byUniqueId.get(u) ?? []), o]);
  }
  return { byUuid, byUniqueId };
}

function stateOf(world: World, between: Association[] = []): UpdateState {
  const versions = new Map<string, (DocumentEntry | Folder)[]>();
  for (const o of world.registered) {
    if (o.type !== 'DocumentEntry' && o.type !== 'Folder') continue;
    const lid = o.logicalUuid ?? o.entryUuid;
    versions.set(lid, [...(versions.get(lid) ?? []), o]);
  }
  const linksOfLatest = new Map<string, Association[]>([[LID, world.links]]);
  const byPair = new Map<string, Association[]>();
  for (const a of between) byPair.set(`${a.sourceUuid} ${a.targetUuid}`, [...(byPair.get(`${a.sourceUuid} ${a.targetUuid}`) ?? []), a]);
  return { versions, linksOfLatest, between: byPair };
}

/** A valid update: version 2 of LID (PreviousVersion 1). */
function newVersion(doc: Partial<DocumentEntry> = {}, membership: Partial<Association> = {}): Submission {
  return {
    submissionSet: submissionSet(),
    documentEntries: [documentEntry('Document01', { logicalUuid: LID, uniqueId: v1.uniqueId!, ...doc })],
    folders: [],
    associations: [association('as01', 'HasMember', 'SubmissionSet01', 'Document01', { submissionSetStatus: 'Original', previousVersion: '1', ...membership })],
    objectRefs: [],
  };
}

function statusChange(target: string, from: string, to: string, source = 'SubmissionSet01'): Submission {
  return {
    submissionSet: submissionSet(),
    documentEntries: [],
    folders: [],
    associations: [association('up01', 'UpdateAvailabilityStatus', source, target, { originalStatus: `${STATUS}${from}`, newStatus: `${STATUS}${to}` })],
    objectRefs: [],
  };
}

function submitted(type: 'HasMember' | 'APND' | 'RPLC', source: string, target: string, overrides: Partial<Association> = {}): Submission {
  return {
    submissionSet: submissionSet(),
    documentEntries: [],
    folders: [],
    associations: [association('sa01', 'SubmitAssociation', 'SubmissionSet01', 'as01'), association('as01', type, source, target, overrides)],
    objectRefs: [],
  };
}

interface Case {
  readonly rule: string;
  readonly why: string;
  readonly submission: () => Submission;
  readonly world?: World;
  readonly between?: Association[];
  readonly code: ErrorCode;
  readonly location: string;
}

const cases: Case[] = [
  { rule: 'MU-operation-present', why: 'a SubmissionSet alone', submission: () => ({ ...newVersion(), documentEntries: [], associations: [] }), code: 'XDSMetadataUpdateOperationError', location: 'SubmissionSet01' },
  {
    rule: 'MU-association-role',
    why: 'a HasMember to a registered document (no operation)',
    submission: () => ({ ...newVersion(), associations: [...newVersion().associations, association('as02', 'HasMember', 'SubmissionSet01', OTHER_DOC, { submissionSetStatus: 'Reference' })] }),
    code: 'XDSMetadataUpdateOperationError',
    location: 'as02',
  },
  { rule: 'MU-association-type', why: 'an APND_TXFM submitted (NIST 20001)', submission: () => submitted('APND', OTHER_DOC, LID, { associationType: 'urn:ihe:iti:2007:AssociationType:APND_TXFM' }), code: 'XDSRegistryMetadataError', location: 'as01' },
  { rule: 'MU-logical-id', why: 'no lid (an initial version)', submission: () => newVersion({ logicalUuid: undefined }), code: 'XDSMetadataUpdateError', location: 'Document01' },
  {
    rule: 'MU-logical-id-once',
    why: 'two new versions of one lid (NIST 20007)',
    submission: () => {
      const s = newVersion();
      return {
        ...s,
        documentEntries: [...s.documentEntries, documentEntry('Document02', { logicalUuid: LID, uniqueId: v1.uniqueId! })],
        associations: [...s.associations, association('as02', 'HasMember', 'SubmissionSet01', 'Document02', { submissionSetStatus: 'Original', previousVersion: '1' })],
      };
    },
    code: 'XDSMetadataUpdateOperationError',
    location: 'Document02',
  },
  { rule: 'MU-version-membership', why: 'no SubmissionSet HasMember', submission: () => ({ ...newVersion(), associations: [] }), code: 'XDSMetadataUpdateError', location: 'Document01' },
  { rule: 'MU-previous-version-slot', why: 'PreviousVersion "no" (NIST 20002b)', submission: () => newVersion({}, { previousVersion: 'no' }), code: 'XDSMetadataUpdateOperationError', location: 'Document01' },
  { rule: 'MU-association-propagation-slot', why: 'AssociationPropagation "maybe"', submission: () => newVersion({}, { associationPropagation: 'maybe' }), code: 'XDSMetadataUpdateOperationError', location: 'as01' },
  {
    rule: 'MU-logical-object-registered',
    why: 'a lid nothing is registered under (NIST 15800b)',
    submission: () => newVersion({ logicalUuid: 'urn:uuid:77777777-7777-4777-8777-777777777777' }),
    code: 'XDSMetadataVersionError',
    location: 'Document01',
  },
  {
    rule: 'MU-logical-object-type',
    why: "a Folder with a DocumentEntry's lid",
    submission: () => {
      const s = newVersion();
      return { ...s, documentEntries: [], folders: [folder('Folder01', { logicalUuid: LID })], associations: [association('as01', 'HasMember', 'SubmissionSet01', 'Folder01', { previousVersion: '1' })] };
    },
    code: 'XDSMetadataUpdateError',
    location: 'Folder01',
  },
  { rule: 'MU-previous-version-latest', why: 'PreviousVersion 4 of version 1 (NIST 15800e)', submission: () => newVersion({}, { previousVersion: '4' }), code: 'XDSMetadataVersionError', location: 'Document01' },
  {
    rule: 'MU-latest-approved',
    why: 'the latest version is Deprecated',
    submission: () => newVersion(),
    world: { ...WORLD, registered: [{ ...v1, availabilityStatus: 'Deprecated' }, otherDoc, theFolder, oldSet] },
    code: 'XDSMetadataUpdateError',
    location: 'Document01',
  },
  { rule: 'MU-same-uniqueId', why: 'another uniqueId', submission: () => newVersion({ uniqueId: '1.2.3.4.5.99' }), code: 'XDSMetadataIdentifierError', location: 'Document01' },
  { rule: 'MU-same-objectType', why: 'on-demand instead of stable', submission: () => newVersion({ objectType: 'urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248' }), code: 'UnmodifiableMetadataError', location: 'Document01' },
  {
    rule: 'MU-patient-change',
    why: 'another patient for a document in a folder',
    submission: () => {
      const s = newVersion({ patientId: OTHER_PATIENT, sourcePatientId: OTHER_PATIENT });
      return { ...s, submissionSet: { ...s.submissionSet, patientId: OTHER_PATIENT } };
    },
    world: { ...WORLD, links: [ssMembership, folderMembership] },
    code: 'XDSPatientIDReconciliationError',
    location: 'Document01',
  },
  { rule: 'MU-status-source', why: 'starting at another object', submission: () => statusChange(LID, 'Approved', 'Deprecated', OTHER_DOC), code: 'XDSMetadataUpdateError', location: 'up01' },
  { rule: 'MU-status-slots', why: 'NewStatus Submitted', submission: () => statusChange(LID, 'Approved', 'Submitted'), code: 'XDSMetadataUpdateOperationError', location: 'up01' },
  { rule: 'MU-status-target-kind', why: 'a Folder (NIST 21001 for a SubmissionSet)', submission: () => statusChange(FOLDER, 'Approved', 'Deprecated'), code: 'XDSMetadataUpdateOperationError', location: 'up01' },
  { rule: 'MU-status-original', why: 'OriginalStatus Deprecated of an Approved entry', submission: () => statusChange(LID, 'Deprecated', 'Approved'), code: 'XDSMetadataUpdateError', location: 'up01' },
  {
    rule: 'MU-status-latest',
    why: 'version 1 when version 2 is registered (NIST 15802b)',
    submission: () => statusChange(LID, 'Deprecated', 'Approved'),
    world: {
      ...WORLD,
      registered: [{ ...v1, availabilityStatus: 'Deprecated' }, documentEntry('urn:uuid:88888888-8888-4888-8888-888888888888', { logicalUuid: LID, version: '2', uniqueId: v1.uniqueId! }), oldSet],
    },
    code: 'XDSMetadataUpdateError',
    location: 'up01',
  },
  { rule: 'MU-status-association-kind', why: "a SubmissionSet's membership", submission: () => statusChange(ssMembership.entryUuid, 'Approved', 'Deprecated'), code: 'XDSMetadataUpdateError', location: 'up01' },
  {
    rule: 'MU-status-once',
    why: 'two changes of one entry',
    submission: () => {
      const s = statusChange(LID, 'Approved', 'Deprecated');
      return { ...s, associations: [...s.associations, association('up02', 'UpdateAvailabilityStatus', 'SubmissionSet01', LID, { originalStatus: `${STATUS}Approved`, newStatus: `${STATUS}Deprecated` })] };
    },
    code: 'XDSMetadataUpdateOperationError',
    location: 'up02',
  },
  {
    rule: 'MU-status-patient',
    why: "another patient's entry",
    submission: () => statusChange(LID, 'Approved', 'Deprecated'),
    world: { ...WORLD, registered: [{ ...v1, patientId: OTHER_PATIENT }, otherDoc, theFolder, oldSet] },
    code: 'XDSPatientIdDoesNotMatch',
    location: 'up01',
  },
  {
    rule: 'MU-submit-association',
    why: 'pointing at something that is no association of the request',
    submission: () => ({ ...submitted('APND', OTHER_DOC, LID), associations: [association('sa01', 'SubmitAssociation', 'SubmissionSet01', LID)] }),
    code: 'XDSMetadataUpdateError',
    location: 'sa01',
  },
  { rule: 'MU-submitted-ends', why: 'a HasMember from a document (NIST 20008 family)', submission: () => submitted('HasMember', OTHER_DOC, LID), code: 'XDSMetadataUpdateError', location: 'as01' },
  {
    rule: 'MU-submitted-approved',
    why: 'a deprecated end (NIST 21004)',
    submission: () => submitted('APND', OTHER_DOC, LID),
    world: { ...WORLD, registered: [{ ...v1, availabilityStatus: 'Deprecated' }, otherDoc, theFolder, oldSet] },
    code: 'XDSMetadataUpdateError',
    location: 'as01',
  },
  {
    rule: 'MU-submitted-patient',
    why: 'two patients (NIST 20100a)',
    submission: () => submitted('APND', OTHER_DOC, LID),
    world: { ...WORLD, registered: [v1, { ...otherDoc, patientId: OTHER_PATIENT }, theFolder, oldSet] },
    code: 'XDSPatientIDReconciliationError',
    location: 'as01',
  },
  {
    rule: 'MU-submitted-patient-submission',
    why: "objects of another patient than the SubmissionSet's",
    submission: () => {
      const s = submitted('APND', OTHER_DOC, LID);
      return { ...s, submissionSet: { ...s.submissionSet, patientId: OTHER_PATIENT } };
    },
    code: 'XDSPatientIdDoesNotMatch',
    location: 'as01',
  },
  {
    rule: 'MU-submitted-new',
    why: 'the same association again (NIST 20008)',
    submission: () => submitted('HasMember', FOLDER, LID),
    between: [folderMembership],
    code: 'XDSMetadataUpdateError',
    location: 'as01',
  },
  { rule: 'MU-submitted-no-replacement', why: 'an RPLC between registered documents', submission: () => submitted('RPLC', OTHER_DOC, LID), code: 'XDSMetadataUpdateOperationError', location: 'as01' },
  {
    rule: 'MU-submissionSet-uniqueId-new',
    why: "the uniqueId of a registered SubmissionSet",
    submission: () => ({ ...newVersion(), submissionSet: submissionSet('SubmissionSet01', { uniqueId: oldSet.uniqueId! }) }),
    code: 'XDSDuplicateUniqueIdInRegistry',
    location: 'SubmissionSet01',
  },
];

function contextOf(c: Case) {
  const world = c.world ?? WORLD;
  return { patientIds: policy, registry: snapshotOf(world.registered), update: stateOf(world, c.between) };
}

describe('ITI-57 rules', () => {
  it('a valid new version, status change and submitted association pass', () => {
    for (const sub of [newVersion(), statusChange(LID, 'Approved', 'Deprecated'), submitted('APND', OTHER_DOC, LID), submitted('HasMember', FOLDER, LID)]) {
      expect(validateUpdate(sub, { patientIds: policy, registry: snapshotOf(WORLD.registered), update: stateOf(WORLD) })).to.deep.equal([]);
    }
  });

  it('a new version may change its patient when the version it supersedes is linked to its SubmissionSet only (NIST 21002)', () => {
    const s = newVersion({ patientId: OTHER_PATIENT, sourcePatientId: OTHER_PATIENT });
    const sub = { ...s, submissionSet: { ...s.submissionSet, patientId: OTHER_PATIENT } };
    expect(validateUpdate(sub, { patientIds: policy, registry: snapshotOf(WORLD.registered), update: stateOf(WORLD) })).to.deep.equal([]);
  });

  for (const c of cases) {
    it(`${c.rule}: ${c.why} → ${c.code} at ${c.location}`, () => {
      const rule = iti57Rules.find((r) => r.id === c.rule);
      expect(rule, `rule ${c.rule} exists`).to.not.equal(undefined);
      expect(rule!.errorCode).to.equal(c.code);
      const ctx = contextOf(c);
      const own = rule!.check({ ...ruleContext(c.submission(), ctx), update: ctx.update });
      expect(own.map((e) => [e.code, e.location])).to.deep.include([c.code, c.location]);
      const all = validateUpdate(c.submission(), ctx);
      expect(all.map((e) => [e.code, e.location])).to.deep.include([c.code, c.location]);
    });
  }

  it('has a case for every MU rule, and unique rule ids', () => {
    const tested = new Set(cases.map((c) => c.rule));
    expect(iti57Rules.filter((r) => r.id.startsWith('MU-') && !tested.has(r.id)).map((r) => r.id)).to.deep.equal([]);
    const ids = iti57Rules.map((r) => r.id);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  describe('what ITI-42 refuses (registerRules = iti42Rules + notAnUpdateRules)', () => {
    it('a lid other than the id → XDSRegistryMetadataError (SUB-no-logical-id)', () => {
      const sub = singleDocument({ logicalUuid: LID });
      expect(validateSubmission(sub, { patientIds: policy }).map((e) => [e.code, e.location])).to.deep.include(['XDSRegistryMetadataError', 'Document01']);
      expect(notAnUpdateRules.find((r) => r.id === 'SUB-no-logical-id')!.check(ruleContext(sub, { patientIds: policy }))).to.have.length(1);
    });

    it('PreviousVersion on a HasMember → XDSRegistryMetadataError (ASSOC-no-update-slots, NIST 21000)', () => {
      const sub = singleDocument();
      const withSlot = { ...sub, associations: sub.associations.map((a) => ({ ...a, previousVersion: '1' })) };
      const errors = validateSubmission(withSlot, { patientIds: policy });
      expect(errors.map((e) => e.code)).to.deep.equal(['XDSRegistryMetadataError']);
      expect(registerRules).to.include.members([...notAnUpdateRules]);
    });

    it('an own id as lid is an initial version and passes', () => {
      expect(validateSubmission(singleDocument({ logicalUuid: 'Document01' }), { patientIds: policy })).to.deep.equal([]);
    });
  });
});
