/**
 * One case per ITI-42 rule: a valid submission broken in exactly one way must produce that rule's
 * error code at the broken object's id. A final check makes sure no rule in iti42Rules is untested.
 */
import { expect } from 'chai';
import type { ErrorCode } from '../../registry/model/errors.js';
import type { RegistryObject, Submission } from '../../registry/model/metadata.js';
import { iti42Rules, ruleContext, validateSubmission, type RegistrySnapshot } from '../../registry/validate/index.js';
import {
  association,
  code,
  documentEntry,
  documentInFolder,
  folder,
  FOREIGN_PATIENT,
  OTHER_PATIENT,
  policy,
  singleDocument,
  submissionSet,
} from './fixtures.js';

const REGISTERED_DOC = 'urn:uuid:11111111-1111-4111-8111-111111111111';
const REGISTERED_FOLDER = 'urn:uuid:22222222-2222-4222-8222-222222222222';
const REGISTERED_SS = 'urn:uuid:33333333-3333-4333-8333-333333333333';

function snapshot(objects: RegistryObject[]): RegistrySnapshot {
  const byUuid = new Map(objects.map((o) => [o.entryUuid, o]));
  const byUniqueId = new Map<string, RegistryObject[]>();
  for (const o of objects) {
    const uid = (o as { uniqueId?: string }).uniqueId;
    if (uid) byUniqueId.set(uid, [...(byUniqueId.get(uid) ?? []), o]);
  }
  return { byUuid, byUniqueId };
}

const registeredDoc = (overrides = {}) => documentEntry(REGISTERED_DOC, overrides);

/** singleDocument() plus a relationship from Document01 to the registered document. */
function withRelationship(type: 'RPLC' | 'APND' | 'XFRM' | 'XFRM_RPLC' | 'signs', docOverrides = {}): Submission {
  const sub = singleDocument(docOverrides);
  return { ...sub, associations: [...sub.associations, association('Rel01', type, 'Document01', REGISTERED_DOC)] };
}

const withoutAttr = <T extends object>(obj: T, key: keyof T): T => {
  const copy = { ...obj };
  delete copy[key];
  return copy;
};

interface Case {
  rule: string;
  why: string;
  submission: () => Submission;
  registry?: () => RegistryObject[];
  code: ErrorCode;
  location: string;
}

const missingDe = (attr: string, change: Partial<ReturnType<typeof documentEntry>>): Case => ({
  rule: `DE-required-${attr}`,
  why: `DocumentEntry without ${attr} (NIST 11998a)`,
  submission: () => {
    const sub = singleDocument();
    const de = sub.documentEntries[0]!;
    const stripped = Object.keys(change).length === 0 ? withoutAttr(de, attr as keyof typeof de) : { ...de, ...change };
    return { ...sub, documentEntries: [stripped] };
  },
  code: 'XDSRegistryMetadataError',
  location: 'Document01',
});

const cases: Case[] = [
  // identifiers
  {
    rule: 'SUB-entryUUID-format',
    why: 'a urn:uuid id that is not a UUID',
    submission: () => {
      const sub = singleDocument();
      return { ...sub, associations: [association('urn:uuid:not-a-uuid', 'HasMember', 'SubmissionSet01', 'Document01', { submissionSetStatus: 'Original' })] };
    },
    code: 'XDSRegistryMetadataError',
    location: 'urn:uuid:not-a-uuid',
  },
  {
    rule: 'SUB-entryUUID-unique',
    why: 'a folder reusing the document id',
    submission: () => ({ ...singleDocument(), folders: [folder('Document01')] }),
    code: 'XDSRegistryMetadataError',
    location: 'Document01',
  },
  {
    rule: 'SUB-uniqueId-unique',
    why: 'two documents with one uniqueId',
    submission: () => {
      const sub = singleDocument({ uniqueId: '1.2.3.4.5' });
      return {
        ...sub,
        documentEntries: [...sub.documentEntries, documentEntry('Document02', { uniqueId: '1.2.3.4.5' })],
        associations: [...sub.associations, association('Assoc02', 'HasMember', 'SubmissionSet01', 'Document02', { submissionSetStatus: 'Original' })],
      };
    },
    code: 'XDSRegistryDuplicateUniqueIdInMessage',
    location: 'Document02',
  },
  {
    rule: 'SUB-homeCommunityId',
    why: 'a DocumentEntry naming another community',
    submission: () => singleDocument({ homeCommunityId: 'urn:oid:1.2.3.999' }),
    code: 'XDSRegistryMetadataError',
    location: 'Document01',
  },
  // patient
  {
    rule: 'SUB-patientId-format',
    why: 'a patientId with an identifier type code',
    submission: () => singleDocument({ patientId: '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO^NNNOR' }),
    code: 'XDSRegistryMetadataError',
    location: 'Document01',
  },
  {
    rule: 'SUB-patientId-match',
    why: 'DocumentEntry patient differs from SubmissionSet patient (NIST 11997)',
    submission: () => singleDocument({ patientId: OTHER_PATIENT }),
    code: 'XDSPatientIdDoesNotMatch',
    location: 'Document01',
  },
  {
    rule: 'SUB-patientId-known',
    why: 'a fødselsnummer with a bad check digit (NIST 11996)',
    submission: () => {
      const bad = '13116900217^^^&2.16.578.1.12.4.1.4.1&ISO';
      const sub = singleDocument({ patientId: bad, sourcePatientId: bad });
      return { ...sub, submissionSet: { ...sub.submissionSet, patientId: bad } };
    },
    code: 'XDSUnknownPatientId',
    location: 'SubmissionSet01',
  },
  // SubmissionSet
  ...(['contentTypeCode', 'patientId', 'sourceId', 'submissionTime', 'uniqueId'] as const).map(
    (attr): Case => ({
      rule: `SS-required-${attr}`,
      why: `SubmissionSet without ${attr}`,
      submission: () => {
        const sub = singleDocument();
        return { ...sub, submissionSet: withoutAttr(sub.submissionSet, attr) };
      },
      code: 'XDSRegistryMetadataError',
      location: 'SubmissionSet01',
    }),
  ),
  {
    rule: 'SS-format-uniqueId',
    why: 'SubmissionSet uniqueId with an extension',
    submission: () => ({ ...singleDocument(), submissionSet: submissionSet('SubmissionSet01', { uniqueId: '1.2.3^abc' }) }),
    code: 'XDSRegistryMetadataError',
    location: 'SubmissionSet01',
  },
  {
    rule: 'SS-format-sourceId',
    why: 'sourceId that is not an OID',
    submission: () => ({ ...singleDocument(), submissionSet: submissionSet('SubmissionSet01', { sourceId: 'my-ehr' }) }),
    code: 'XDSRegistryMetadataError',
    location: 'SubmissionSet01',
  },
  {
    rule: 'SS-format-submissionTime',
    why: 'submissionTime in ISO 8601',
    submission: () => ({ ...singleDocument(), submissionSet: submissionSet('SubmissionSet01', { submissionTime: '2024-01-01T12:00:00Z' }) }),
    code: 'XDSRegistryMetadataError',
    location: 'SubmissionSet01',
  },
  {
    rule: 'SS-format-contentTypeCode',
    why: 'contentTypeCode without codingScheme',
    submission: () => ({ ...singleDocument(), submissionSet: submissionSet('SubmissionSet01', { contentTypeCode: { code: 'X', displayName: { value: 'x' } } }) }),
    code: 'XDSRegistryMetadataError',
    location: 'SubmissionSet01',
  },
  {
    rule: 'SS-format-author',
    why: 'an author with only a role',
    submission: () => ({
      ...singleDocument(),
      submissionSet: submissionSet('SubmissionSet01', { authors: [{ institutions: [], roles: ['LE'], specialties: [], telecommunications: [] }] }),
    }),
    code: 'XDSRegistryMetadataError',
    location: 'SubmissionSet01',
  },
  {
    rule: 'SS-intendedRecipient',
    why: 'an empty intendedRecipient',
    submission: () => ({ ...singleDocument(), submissionSet: submissionSet('SubmissionSet01', { intendedRecipients: ['|'] }) }),
    code: 'XDSRegistryMetadataError',
    location: 'SubmissionSet01',
  },
  {
    rule: 'SS-not-limited',
    why: 'a limited-metadata SubmissionSet',
    submission: () => ({ ...singleDocument(), submissionSet: submissionSet('SubmissionSet01', { limitedMetadata: true }) }),
    code: 'XDSRegistryMetadataError',
    location: 'SubmissionSet01',
  },
  // DocumentEntry required attributes
  missingDe('classCode', {}),
  missingDe('confidentialityCode', { confidentialityCodes: [] }),
  missingDe('creationTime', {}),
  missingDe('formatCode', {}),
  missingDe('hash', {}),
  missingDe('healthcareFacilityTypeCode', {}),
  missingDe('languageCode', {}),
  missingDe('mimeType', { mimeType: '' }),
  missingDe('patientId', {}),
  missingDe('practiceSettingCode', {}),
  missingDe('repositoryUniqueId', {}),
  missingDe('size', {}),
  missingDe('sourcePatientId', {}),
  missingDe('typeCode', {}),
  missingDe('uniqueId', {}),
  // DocumentEntry formats
  ...(
    [
      ['DE-objectType-stable', 'an on-demand entry', { objectType: 'urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248' }],
      ['DE-format-uniqueId', 'a uniqueId that is not an OID', { uniqueId: 'Document01' }],
      ['DE-format-creationTime', 'creationTime with month 13', { creationTime: '20241301' }],
      ['DE-format-serviceStartTime', 'serviceStartTime with a zone', { serviceStartTime: '20240101+0100' }],
      ['DE-format-serviceStopTime', 'serviceStopTime with hour 24', { serviceStopTime: '2024010124' }],
      ['DE-format-hash', 'a 39-digit hash', { hash: 'da39a3ee5e6b4b0d3255bfef95601890afd8070' }],
      ['DE-format-size', 'a negative size', { size: '-1' }],
      ['DE-format-languageCode', 'a language code with an underscore', { languageCode: 'nb_NO' }],
      ['DE-format-mimeType', 'a mimeType without subtype', { mimeType: 'pdf' }],
      ['DE-format-repositoryUniqueId', 'repositoryUniqueId that is a name', { repositoryUniqueId: 'repo-1' }],
      ['DE-format-codes', 'a classCode without display name', { classCode: { code: 'A00-1', scheme: '2.16.578.1.12.4.1.1.9602' } }],
      ['DE-format-author', 'an authorPerson with neither id nor name', { authors: [{ person: '^^Kari', institutions: [], roles: [], specialties: [], telecommunications: [] }] }],
      ['DE-format-legalAuthenticator', 'a legalAuthenticator with neither id nor name', { legalAuthenticator: '^^^^' }],
      ['DE-format-sourcePatientId', 'a sourcePatientId without assigning authority', { sourcePatientId: '13116900216' }],
      ['DE-format-sourcePatientInfo', 'a sourcePatientInfo line without PID-n|', { sourcePatientInfo: ['Nordmann^Kari'] }],
    ] as const
  ).map(
    ([rule, why, change]): Case => ({
      rule,
      why,
      submission: () => singleDocument(change as Partial<ReturnType<typeof documentEntry>>),
      code: 'XDSRegistryMetadataError',
      location: 'Document01',
    }),
  ),
  // Folder
  ...(
    [
      ['FOL-required-codeList', { codeList: [] }],
      ['FOL-required-patientId', { patientId: '' }],
      ['FOL-required-title', { title: { value: ' ' } }],
      ['FOL-required-uniqueId', { uniqueId: '' }],
      ['FOL-format-uniqueId', { uniqueId: '1.2.3^x' }],
      ['FOL-format-codeList', { codeList: [code('', 'x')] }],
    ] as const
  ).map(
    ([rule, change]): Case => ({
      rule,
      why: `folder broken for ${rule}`,
      submission: () => {
        const sub = documentInFolder();
        return { ...sub, folders: [folder('Folder01', change as Partial<ReturnType<typeof folder>>)] };
      },
      code: 'XDSRegistryMetadataError',
      location: 'Folder01',
    }),
  ),
  // membership
  {
    rule: 'SUB-member-of-submissionSet',
    why: 'a DocumentEntry the SubmissionSet does not contain',
    submission: () => ({ ...singleDocument(), associations: [] }),
    code: 'XDSRegistryMetadataError',
    location: 'Document01',
  },
  // associations
  {
    rule: 'ASSOC-type',
    why: 'an ITI-57 association type in ITI-42',
    submission: () => {
      const sub = singleDocument();
      return { ...sub, associations: [...sub.associations, association('Bad01', 'UpdateAvailabilityStatus', 'SubmissionSet01', 'Document01')] };
    },
    code: 'XDSRegistryMetadataError',
    location: 'Bad01',
  },
  {
    rule: 'ASSOC-references-resolve',
    why: 'a target neither in the message nor in the registry',
    submission: () => withRelationship('APND'),
    code: 'UnresolvedReferenceException',
    location: 'Rel01',
  },
  {
    rule: 'ASSOC-documentation-only-on-relationships',
    why: 'documentation on HasMember (NIST 12370 not_configured)',
    submission: () => ({
      ...singleDocument(),
      associations: [association('Assoc01', 'HasMember', 'SubmissionSet01', 'Document01', { submissionSetStatus: 'Original', documentation: [code('why', '1.2.3')] })],
    }),
    code: 'XDSRegistryMetadataError',
    location: 'Assoc01',
  },
  {
    rule: 'HM-shape',
    why: 'a Folder containing a Folder',
    submission: () => {
      const sub = documentInFolder();
      return { ...sub, associations: [...sub.associations, association('Bad01', 'HasMember', 'Folder01', REGISTERED_FOLDER)] };
    },
    registry: () => [folder(REGISTERED_FOLDER)],
    code: 'XDSRegistryMetadataError',
    location: 'Bad01',
  },
  {
    rule: 'HM-submissionSetStatus',
    why: 'SubmissionSet→DocumentEntry without SubmissionSetStatus',
    submission: () => ({ ...singleDocument(), associations: [association('Assoc01', 'HasMember', 'SubmissionSet01', 'Document01')] }),
    code: 'XDSRegistryMetadataError',
    location: 'Assoc01',
  },
  {
    rule: 'HM-folder-patient',
    why: 'adding another patient’s registered document to a new folder (NIST 12002)',
    submission: () => {
      const sub = documentInFolder();
      return {
        ...sub,
        associations: [...sub.associations, association('Add01', 'HasMember', 'Folder01', REGISTERED_DOC)],
      };
    },
    registry: () => [registeredDoc({ patientId: OTHER_PATIENT })],
    code: 'XDSPatientIdDoesNotMatch',
    location: 'Add01',
  },
  {
    rule: 'REL-source-submitted',
    why: 'an APND whose source is the registered document',
    submission: () => {
      const sub = singleDocument();
      return { ...sub, associations: [...sub.associations, association('Rel01', 'APND', REGISTERED_DOC, 'Document01')] };
    },
    registry: () => [registeredDoc()],
    code: 'XDSRegistryMetadataError',
    location: 'Rel01',
  },
  {
    rule: 'REL-target-document',
    why: 'an RPLC pointing at a Folder',
    submission: () => {
      const sub = singleDocument();
      return { ...sub, associations: [...sub.associations, association('Rel01', 'RPLC', 'Document01', REGISTERED_FOLDER)] };
    },
    registry: () => [folder(REGISTERED_FOLDER)],
    code: 'XDSRegistryMetadataError',
    location: 'Rel01',
  },
  {
    rule: 'REL-target-approved',
    why: 'an APND to a deprecated document (NIST 11993)',
    submission: () => withRelationship('APND'),
    registry: () => [registeredDoc({ availabilityStatus: 'Deprecated' })],
    code: 'XDSRegistryDeprecatedDocumentError',
    location: 'Rel01',
  },
  {
    rule: 'REL-same-patient',
    why: 'replacing another patient’s document (NIST 11998)',
    submission: () => withRelationship('RPLC'),
    registry: () => [registeredDoc({ patientId: OTHER_PATIENT })],
    code: 'XDSPatientIdDoesNotMatch',
    location: 'Rel01',
  },
  {
    rule: 'REL-replace-once',
    why: 'two replacements of one document',
    submission: () => {
      const sub = withRelationship('RPLC');
      return {
        ...sub,
        documentEntries: [...sub.documentEntries, documentEntry('Document02')],
        associations: [
          ...sub.associations,
          association('Assoc02', 'HasMember', 'SubmissionSet01', 'Document02', { submissionSetStatus: 'Original' }),
          association('Rel02', 'XFRM_RPLC', 'Document02', REGISTERED_DOC),
        ],
      };
    },
    registry: () => [registeredDoc()],
    code: 'XDSRegistryMetadataError',
    location: 'Rel02',
  },
  // registry state
  {
    rule: 'REG-entryUUID-new',
    why: 'a pre-assigned UUID already registered (NIST 15806)',
    submission: () => {
      const sub = singleDocument();
      return {
        ...sub,
        documentEntries: [documentEntry(REGISTERED_DOC)],
        associations: [association('Assoc01', 'HasMember', 'SubmissionSet01', REGISTERED_DOC, { submissionSetStatus: 'Original' })],
      };
    },
    registry: () => [registeredDoc()],
    code: 'XDSRegistryMetadataError',
    location: REGISTERED_DOC,
  },
  {
    rule: 'REG-document-uniqueId-kind',
    why: 'a DocumentEntry reusing a registered SubmissionSet uniqueId',
    submission: () => singleDocument({ uniqueId: '1.2.3.4.77' }),
    registry: () => [submissionSet(REGISTERED_SS, { uniqueId: '1.2.3.4.77' })],
    code: 'XDSDuplicateUniqueIdInRegistry',
    location: 'Document01',
  },
  {
    rule: 'REG-document-resubmission-hash',
    why: 'a resubmission with a different hash (NIST 12004)',
    submission: () => singleDocument({ uniqueId: '1.2.3.4.78', hash: 'ffffffffffffffffffffffffffffffffffffffff' }),
    registry: () => [registeredDoc({ uniqueId: '1.2.3.4.78' })],
    code: 'XDSNonIdenticalHash',
    location: 'Document01',
  },
  {
    rule: 'REG-document-resubmission-size',
    why: 'a resubmission with the same hash and a different size',
    submission: () => singleDocument({ uniqueId: '1.2.3.4.79', size: '99' }),
    registry: () => [registeredDoc({ uniqueId: '1.2.3.4.79' })],
    code: 'XDSNonIdenticalSize',
    location: 'Document01',
  },
  {
    rule: 'REG-package-uniqueId-new',
    why: 'a Folder uniqueId already registered',
    submission: () => {
      const sub = documentInFolder();
      return { ...sub, folders: [folder('Folder01', { uniqueId: '1.2.3.4.80' })] };
    },
    registry: () => [folder(REGISTERED_FOLDER, { uniqueId: '1.2.3.4.80' })],
    code: 'XDSDuplicateUniqueIdInRegistry',
    location: 'Folder01',
  },
];

function run(c: Case) {
  const registry = c.registry ? snapshot(c.registry()) : undefined;
  return validateSubmission(c.submission(), { patientIds: policy, ...(registry ? { registry } : {}), homeCommunityId: 'urn:oid:1.2.3.1' });
}

describe('ITI-42 validation rules', () => {
  it('accepts the valid fixtures', () => {
    expect(validateSubmission(singleDocument(), { patientIds: policy })).to.deep.equal([]);
    expect(validateSubmission(documentInFolder(), { patientIds: policy })).to.deep.equal([]);
  });

  it('accepts a configured foreign assigning authority', () => {
    const sub = singleDocument({ patientId: FOREIGN_PATIENT });
    expect(validateSubmission({ ...sub, submissionSet: { ...sub.submissionSet, patientId: FOREIGN_PATIENT } }, { patientIds: policy })).to.deep.equal([]);
  });

  it('accepts uppercase hashes, OID^extension uniqueIds and the relationships to approved same-patient documents', () => {
    for (const type of ['RPLC', 'APND', 'XFRM', 'XFRM_RPLC', 'signs'] as const) {
      const sub = withRelationship(type, { hash: 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709', uniqueId: '1.2.3.4^abc-1' });
      expect(validateSubmission(sub, { patientIds: policy, registry: snapshot([registeredDoc()]) }), type).to.deep.equal([]);
    }
  });

  it('accepts a resubmission with the same hash (any case) and size (NIST 12004)', () => {
    const sub = singleDocument({ uniqueId: '1.2.3.4.81', hash: 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709' });
    expect(validateSubmission(sub, { patientIds: policy, registry: snapshot([registeredDoc({ uniqueId: '1.2.3.4.81' })]) })).to.deep.equal([]);
  });

  it('accepts a registered document added to a registered folder by Reference (NIST 12326)', () => {
    const sub: Submission = {
      submissionSet: submissionSet(),
      documentEntries: [],
      folders: [],
      associations: [
        association('Add01', 'HasMember', REGISTERED_FOLDER, REGISTERED_DOC),
        association('Assoc01', 'HasMember', 'SubmissionSet01', 'Add01'),
        association('Ref01', 'HasMember', 'SubmissionSet01', REGISTERED_DOC, { submissionSetStatus: 'Reference' }),
      ],
      objectRefs: [REGISTERED_FOLDER, REGISTERED_DOC],
    };
    expect(validateSubmission(sub, { patientIds: policy, registry: snapshot([registeredDoc(), folder(REGISTERED_FOLDER)]) })).to.deep.equal([]);
  });

  it('reports every problem, not just the first', () => {
    const errors = validateSubmission(singleDocument({ hash: 'x', size: 'y', languageCode: '' }), { patientIds: policy });
    expect(errors.map((e) => e.message)).to.have.length(3);
  });

  for (const c of cases) {
    it(`${c.rule}: ${c.why} → ${c.code} at ${c.location}`, () => {
      const errors = run(c);
      const rule = iti42Rules.find((r) => r.id === c.rule);
      expect(rule, `rule ${c.rule} exists`).to.not.equal(undefined);
      expect(rule?.errorCode).to.equal(c.code);
      // The rule itself must report it, not merely some other rule with the same code.
      const registry = c.registry ? snapshot(c.registry()) : undefined;
      const own = rule!.check(ruleContext(c.submission(), { patientIds: policy, ...(registry ? { registry } : {}), homeCommunityId: 'urn:oid:1.2.3.1' }));
      expect(own.map((e) => [e.code, e.location])).to.deep.include([c.code, c.location]);
      expect(errors.map((e) => [e.code, e.location])).to.deep.include([c.code, c.location]);
      expect(errors.every((e) => e.severity === 'Error')).to.equal(true);
    });
  }

  it('has a case for every rule of iti42Rules', () => {
    const tested = new Set(cases.map((c) => c.rule));
    expect(iti42Rules.map((r) => r.id).filter((id) => !tested.has(id))).to.deep.equal([]);
  });

  it('gives every rule a unique id', () => {
    const ids = iti42Rules.map((r) => r.id);
    expect(new Set(ids).size).to.equal(ids.length);
  });
});
