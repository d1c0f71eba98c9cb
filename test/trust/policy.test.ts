import { expect } from 'chai';
import { trustPolicySchema } from '../../connector/trust/config.js';
import {
  decideRequest,
  decideRetrieve,
  denialError,
  filterQueryResult,
  MASKED_TITLE,
  type Decision,
  type Denial,
  type FilteredResult,
  type Permit,
} from '../../connector/trust/policy.js';
import type { Principal } from '../../connector/trust/principal.js';
import { NO_EXTRA, type Association, type DocumentEntry, type RegistryObject } from '../../registry/model/metadata.js';
import { isValidNorwegianId } from '../../registry/patients.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const OPTIONS = { ...trustPolicySchema.parse({}), acceptSyntheticIds: false };
const FNR_OID = '2.16.578.1.12.4.1.4.1';
const cx = (id: string): string => `${id}^^^&${FNR_OID}&ISO`;

/**
 * A valid national id for a birth date (individual numbers searched until both check digits
 * work); dayOffset 40 gives a D-number.
 */
function nationalId(birth: string, dayOffset = 0): string {
  const [y, m, d] = birth.split('-').map(Number) as [number, number, number];
  const yy = String(y % 100).padStart(2, '0');
  const start = y >= 2000 ? 500 : 0;
  for (let i = start; i < start + 499; i++) {
    for (let k = 0; k < 100; k++) {
      const id = `${String(d + dayOffset).padStart(2, '0')}${String(m).padStart(2, '0')}${yy}${String(i).padStart(3, '0')}${String(k).padStart(2, '0')}`;
      if (isValidNorwegianId(id, dayOffset === 0 ? 'F' : 'D')) return id;
    }
  }
  throw new Error(`no national id for ${birth}`);
}
const fnr = (birth: string): string => nationalId(birth);

const CLINICIAN = '13116900216';
const PATIENT = fnr('1980-05-17');

function clinician(over: Partial<Principal> = {}): Principal {
  return {
    assertionId: '_a',
    issuer: 'https://helseid-xdssaml.test.nhn.no',
    subjectId: CLINICIAN,
    subjectName: 'KVART GREVLING',
    hprNumber: '565505933',
    role: { code: 'LE', codeSystem: '2.16.578.1.12.4.1.1.9060' },
    purposeOfUseCode: { code: 'TREAT', codeSystem: '2.16.840.1.113883.1.11.20448' },
    purposeOfUse: 'TREAT',
    patientId: cx(PATIENT),
    organizationName: 'VOSS HERAD',
    organizationId: { extension: '960510542', root: '2.16.578.1.12.4.1.4.101' },
    childOrganizationId: { extension: '874593842', root: '2.16.578.1.12.4.1.4.101' },
    securityLevel: '4',
    accessConsentPolicies: [],
    audiences: ['nhn:dokumentdeling-saml'],
    notOnOrAfter: new Date(NOW.getTime() + 3_600_000),
    attributes: {},
    ...over,
  };
}

function citizen(subject: string, patient: string, acp: string[] = []): Principal {
  return clinician({
    issuer: 'sikkerhet.helsenorge.no',
    subjectId: subject,
    hprNumber: subject,
    purposeOfUseCode: { code: '13', codeSystem: '1.0.14265.1' },
    purposeOfUse: 'PATRQT',
    patientId: cx(patient),
    organizationName: 'Norsk Helsenett',
    organizationId: { extension: '994598759' },
    accessConsentPolicies: acp,
  });
}

function entry(id: string, codes: [string, string][] = [['N', '2.16.578.1.12.4.1.1.9603']], patient = PATIENT): DocumentEntry {
  return {
    type: 'DocumentEntry',
    entryUuid: `urn:uuid:${id}`,
    uniqueId: `2.25.${id.length}${id.charCodeAt(0)}`,
    patientId: cx(patient),
    sourcePatientId: cx(patient),
    availabilityStatus: 'Approved',
    objectType: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1',
    title: { value: 'Epikrise fra psykiatrisk avdeling', lang: 'nb-NO' },
    comments: { value: 'Innlagt etter selvmordsforsøk' },
    classCode: { code: 'A00-1', scheme: '2.16.578.1.12.4.1.1.9602' },
    typeCode: { code: 'A03-2', scheme: '2.16.578.1.12.4.1.1.9602' },
    formatCode: { code: 'urn:no:ehelse:document:pdf', scheme: '2.16.578.1.12.4.1.1.9609' },
    practiceSettingCode: { code: 'S30', scheme: '2.16.578.1.12.4.1.1.8655' },
    healthcareFacilityTypeCode: { code: '86.101', scheme: '2.16.578.1.12.4.1.1.1303' },
    mimeType: 'application/pdf',
    languageCode: 'nb-NO',
    creationTime: '20250101120000',
    serviceStartTime: '20241220',
    serviceStopTime: '20250101',
    hash: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    size: '1234',
    repositoryUniqueId: '2.16.578.1.12.4.5.100.1.2',
    confidentialityCodes: codes.map(([code, scheme]) => ({ code, scheme })),
    eventCodes: [{ code: 'F32', scheme: '2.16.578.1.12.4.1.1.7110' }],
    authors: [{ person: '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO', institutions: [], roles: [], specialties: [], telecommunications: [] }],
    legalAuthenticator: '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO',
    sourcePatientInfo: ['PID-5|Nordmann^Kari'],
    referenceIdList: ['123^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession'],
    extra: { slots: [{ name: 'urn:example:diagnosis', values: ['F32'] }], classifications: [], externalIdentifiers: [] },
  };
}

const permitOf = (d: Decision): Permit => {
  expect(d.permit, d.permit ? '' : (d as Denial).reason).to.equal(true);
  return d as Permit;
};
const denied = (d: Decision | FilteredResult, rule: string): void => {
  expect('permit' in d && d.permit === false, JSON.stringify(d)).to.equal(true);
  expect((d as Denial).rule).to.equal(rule);
};
const filtered = (d: FilteredResult | Denial): FilteredResult => {
  expect('objects' in d, JSON.stringify(d)).to.equal(true);
  return d as FilteredResult;
};

describe('trust policy', () => {
  describe('whole-request rules', () => {
    it('permits a physician (LE) at security level 4 treating the queried patient', () => {
      const p = permitOf(decideRequest(clinician(), cx(PATIENT), OPTIONS, NOW));
      expect(p).to.include({ kind: 'personnel', breakGlass: false, patientId: cx(PATIENT) });
    });

    it('missing subject, organisation or patient → deny', () => {
      denied(decideRequest(clinician({ subjectId: ' ' }), cx(PATIENT), OPTIONS, NOW), 'missing-attribute');
      denied(decideRequest(clinician({ organizationId: undefined, organizationName: undefined }), cx(PATIENT), OPTIONS, NOW), 'missing-attribute');
      denied(decideRequest(clinician({ patientId: undefined }), cx(PATIENT), OPTIONS, NOW), 'missing-attribute');
    });

    it('unknown purpose of use → deny', () => {
      denied(decideRequest(clinician({ purposeOfUse: undefined, purposeOfUseCode: { code: 'HMARKT' } }), cx(PATIENT), OPTIONS, NOW), 'purpose-of-use');
    });

    it('ATT-10: the user id must be a valid F- or D-number', () => {
      denied(decideRequest(clinician({ subjectId: '13116900217' }), cx(PATIENT), OPTIONS, NOW), 'ATT-10');
      denied(decideRequest(clinician({ subjectId: '565505933' }), cx(PATIENT), OPTIONS, NOW), 'ATT-10');
      // D-number: day + 40.
      const dnr = nationalId('1969-11-13', 40);
      expect(dnr.startsWith('53')).to.equal(true);
      permitOf(decideRequest(clinician({ subjectId: dnr }), cx(PATIENT), OPTIONS, NOW));
      // NHN's test users are synthetic (month + 80): accepted only when configured.
      denied(decideRequest(clinician({ subjectId: '06828399789' }), cx(PATIENT), OPTIONS, NOW), 'ATT-10');
      permitOf(decideRequest(clinician({ subjectId: '06828399789' }), cx(PATIENT), { ...OPTIONS, acceptSyntheticIds: true }, NOW));
    });

    it('ATT-4: resource-id must equal the queried patient (urn:oid: spelling aside)', () => {
      denied(decideRequest(clinician(), cx(fnr('1990-01-01')), OPTIONS, NOW), 'ATT-4');
      denied(decideRequest(clinician(), undefined, OPTIONS, NOW), 'ATT-4');
      permitOf(decideRequest(clinician(), `${PATIENT}^^^&urn:oid:${FNR_OID}&ISO`, OPTIONS, NOW));
    });

    it('ATT-4: every returned object must belong to the assertion’s patient', () => {
      const p = permitOf(decideRequest(clinician(), cx(PATIENT), OPTIONS, NOW));
      denied(filterQueryResult(p, [entry('a'), entry('b', undefined, fnr('1990-01-01'))]), 'ATT-4');
      denied(decideRetrieve(p, entry('b', undefined, fnr('1990-01-01'))), 'ATT-4');
    });

    it('a denial becomes XDSRegistryError with our homeCommunityId as location', () => {
      const d = decideRequest(clinician(), cx(fnr('1990-01-01')), OPTIONS, NOW) as Denial;
      const e = denialError(d, 'urn:oid:2.16.578.1.12.4.5.100.1');
      expect(e).to.include({ code: 'XDSRegistryError', severity: 'Error', location: 'urn:oid:2.16.578.1.12.4.5.100.1' });
    });

    it('security level other than the configured ones → deny', () => {
      denied(decideRequest(clinician({ securityLevel: '3' }), cx(PATIENT), OPTIONS, NOW), 'security-level');
      denied(decideRequest(clinician({ securityLevel: undefined }), cx(PATIENT), OPTIONS, NOW), 'security-level');
      permitOf(decideRequest(clinician({ securityLevel: '3' }), cx(PATIENT), { ...OPTIONS, securityLevels: ['3', '4'] }, NOW));
    });

    it('roles: LE, SP, PS by default; others, or a role outside Volven 9060, → deny; configurable', () => {
      for (const code of ['LE', 'SP', 'PS']) permitOf(decideRequest(clinician({ role: { code, codeSystem: '2.16.578.1.12.4.1.1.9060' } }), cx(PATIENT), OPTIONS, NOW));
      denied(decideRequest(clinician({ role: { code: 'SY', codeSystem: '2.16.578.1.12.4.1.1.9060' } }), cx(PATIENT), OPTIONS, NOW), 'role');
      denied(decideRequest(clinician({ role: { code: 'LE' } }), cx(PATIENT), OPTIONS, NOW), 'role');
      denied(decideRequest(clinician({ role: undefined }), cx(PATIENT), OPTIONS, NOW), 'role');
      permitOf(decideRequest(clinician({ role: { code: 'SY', codeSystem: '2.16.578.1.12.4.1.1.9060' } }), cx(PATIENT), { ...OPTIONS, roles: ['SY'] }, NOW));
    });
  });

  describe('NORS for health personnel', () => {
    const nors: [string, string][] = [['NORS', '2.16.578.1.12.4.1.1.9603']];

    it('TREAT: a NORS entry is returned as a masked stub titled "Sperret"', () => {
      const p = permitOf(decideRequest(clinician(), cx(PATIENT), OPTIONS, NOW));
      const r = filtered(filterQueryResult(p, [entry('open'), entry('blocked', nors)]));
      expect(r.masked).to.deep.equal(['urn:uuid:blocked']);
      const stub = r.objects[1] as DocumentEntry;
      expect(stub.title).to.deep.equal({ value: MASKED_TITLE, lang: 'nb-NO' });
      expect(stub).to.include({ entryUuid: 'urn:uuid:blocked', patientId: cx(PATIENT), creationTime: '20250101120000', mimeType: 'application/pdf' });
      expect(stub.confidentialityCodes).to.deep.equal([{ code: 'NORS', scheme: '2.16.578.1.12.4.1.1.9603' }]);
      for (const k of ['comments', 'classCode', 'typeCode', 'practiceSettingCode', 'healthcareFacilityTypeCode', 'serviceStartTime', 'serviceStopTime', 'hash', 'size', 'legalAuthenticator', 'uri'] as const) {
        expect(stub[k], k).to.equal(undefined);
      }
      expect(stub.authors).to.deep.equal([]);
      expect(stub.eventCodes).to.deep.equal([]);
      expect(stub.sourcePatientInfo).to.deep.equal([]);
      expect(stub.referenceIdList).to.deep.equal([]);
      expect(stub.extra).to.equal(NO_EXTRA);
      expect(r.objects[0]).to.deep.equal(entry('open'));
    });

    it('TREAT: retrieving a NORS document is refused', () => {
      const p = permitOf(decideRequest(clinician(), cx(PATIENT), OPTIONS, NOW));
      denied(decideRetrieve(p, entry('blocked', nors)), 'NORS');
      permitOf(decideRetrieve(p, entry('open')));
    });

    for (const purpose of ['ETREAT', 'BTG'] as const) {
      it(`${purpose} overrides: NORS entries are shown whole and may be retrieved`, () => {
        const p = permitOf(decideRequest(clinician({ purposeOfUse: purpose }), cx(PATIENT), OPTIONS, NOW));
        expect(p.breakGlass).to.equal(true);
        const r = filtered(filterQueryResult(p, [entry('blocked', nors)]));
        expect(r.masked).to.deep.equal([]);
        expect(r.objects[0]).to.deep.equal(entry('blocked', nors));
        permitOf(decideRetrieve(p, entry('blocked', nors)));
      });
    }
  });

  describe('citizens', () => {
    const adult = fnr('1980-05-17');
    const codes = {
      noru: [['NORU', '2.16.578.1.12.4.1.1.9603']] as [string, string][],
      norn: [['NORN_FFL', '2.16.578.1.12.4.1.1.9603']] as [string, string][],
      v: [['V', '2.16.840.1.113883.5.25']] as [string, string][],
      r: [['R', '2.16.840.1.113883.5.25']] as [string, string][],
      nors: [['NORS', '2.16.578.1.12.4.1.1.9603']] as [string, string][],
    };

    it('an adult sees own documents, except NORU, NORN_* and HL7 V; NORS is not hidden from the patient', () => {
      const p = permitOf(decideRequest(citizen(adult, adult), cx(adult), OPTIONS, NOW));
      expect(p).to.include({ kind: 'citizen', minor: false, rule: 'citizen-own' });
      const objects: RegistryObject[] = [
        entry('n', undefined, adult),
        entry('noru', codes.noru, adult),
        entry('norn', codes.norn, adult),
        entry('v', codes.v, adult),
        entry('r', codes.r, adult),
        entry('nors', codes.nors, adult),
      ];
      const r = filtered(filterQueryResult(p, objects));
      expect(r.objects.map((o) => o.entryUuid)).to.deep.equal(['urn:uuid:n', 'urn:uuid:r', 'urn:uuid:nors']);
      expect(r.withheld).to.have.members(['urn:uuid:noru', 'urn:uuid:norn', 'urn:uuid:v']);
      denied(decideRetrieve(p, entry('v', codes.v, adult)), 'confidentiality');
      permitOf(decideRetrieve(p, entry('nors', codes.nors, adult)));
    });

    it('associations to withheld entries are dropped with them', () => {
      const p = permitOf(decideRequest(citizen(adult, adult), cx(adult), OPTIONS, NOW));
      const assoc = (id: string, target: string): Association => ({
        type: 'Association',
        entryUuid: `urn:uuid:${id}`,
        associationType: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember',
        sourceUuid: 'urn:uuid:ss',
        targetUuid: target,
        availabilityStatus: 'Approved',
        extra: NO_EXTRA,
      });
      const r = filtered(filterQueryResult(p, [entry('n', undefined, adult), entry('v', codes.v, adult), assoc('a1', 'urn:uuid:n'), assoc('a2', 'urn:uuid:v')]));
      expect(r.objects.map((o) => o.entryUuid)).to.deep.equal(['urn:uuid:n', 'urn:uuid:a1']);
    });

    it('16–18: own documents, with HL7 R withheld as well', () => {
      const youth = fnr('2009-06-01');
      const p = permitOf(decideRequest(citizen(youth, youth), cx(youth), OPTIONS, NOW));
      expect(p.minor).to.equal(true);
      const r = filtered(filterQueryResult(p, [entry('n', undefined, youth), entry('r', codes.r, youth)]));
      expect(r.objects.map((o) => o.entryUuid)).to.deep.equal(['urn:uuid:n']);
    });

    it('12–16: no access to own documents', () => {
      const child = fnr('2012-03-01');
      denied(decideRequest(citizen(child, child), cx(child), OPTIONS, NOW), 'citizen-age');
    });

    it('a parent (acp …7.2.1.1) sees a child under 12, not an older one', () => {
      const parent = fnr('1985-02-02');
      const small = fnr('2020-01-15');
      const p = permitOf(decideRequest(citizen(parent, small, ['2.16.578.1.12.4.1.7.2.1.1']), cx(small), OPTIONS, NOW));
      expect(p.rule).to.equal('citizen-parent');
      const older = fnr('2013-01-15');
      denied(decideRequest(citizen(parent, older, ['2.16.578.1.12.4.1.7.2.1.1']), cx(older), OPTIONS, NOW), 'citizen-representation');
    });

    it('a proxy (acp …7.2.1.2 or .3) sees the represented adult, but not a 12–16-year-old', () => {
      const proxy = fnr('1985-02-02');
      for (const acp of ['2.16.578.1.12.4.1.7.2.1.2', '2.16.578.1.12.4.1.7.2.1.3']) {
        expect(permitOf(decideRequest(citizen(proxy, adult, [acp]), cx(adult), OPTIONS, NOW)).rule).to.equal('citizen-representative');
      }
      const teen = fnr('2012-03-01');
      denied(decideRequest(citizen(proxy, teen, ['2.16.578.1.12.4.1.7.2.1.2']), cx(teen), OPTIONS, NOW), 'citizen-representation');
    });

    it('another person’s documents without a matching acp code → deny', () => {
      const other = fnr('1985-02-02');
      denied(decideRequest(citizen(other, adult), cx(adult), OPTIONS, NOW), 'citizen-representation');
      denied(decideRequest(citizen(other, adult, ['2.16.578.1.12.4.1.7.2.1.8']), cx(adult), OPTIONS, NOW), 'citizen-representation');
    });

    it('citizen purposes only from the configured citizen issuers', () => {
      const opts = { ...OPTIONS, citizenIssuers: ['sikkerhet.helsenorge.no'] };
      permitOf(decideRequest(citizen(adult, adult), cx(adult), opts, NOW));
      const forged = { ...citizen(adult, adult), issuer: 'https://helseid-xdssaml.test.nhn.no' };
      denied(decideRequest(forged, cx(adult), opts, NOW), 'citizen-issuer');
    });
  });
});
