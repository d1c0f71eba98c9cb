/**
 * The Norwegian access policy (tillitsmodell, docs/norway.md): pure functions from a verified
 * Principal and model objects to decisions and filtered / masked objects. One place for ITI-18,
 * ITI-38, ITI-39 and ITI-43: the transaction runs the actor, then these, then serialises.
 *
 * A whole-request denial is a `Denial` value, not an exception: the reference source answers it
 * with a normal response whose RegistryResponse is Failure / XDSRegistryError with our
 * homeCommunityId as location (`denialError` builds that error), which the transaction maps.
 *
 * Rules (trust-framework ATT rules where they have a number):
 * - missing subject, organisation or patient, or an unknown purpose of use → deny all;
 * - ATT-10: the user id (NameID) is a valid F- or D-number;
 * - ATT-4: resource-id equals the queried patient and every returned object's patient;
 * - ATT-5: patient blocks (blocks.ts) are checked by the caller with the store;
 * - health personnel: role and SecurityLevel from configuration (default LE, SP, PS at level 4);
 *   NORS entries become masked stubs and cannot be retrieved, except under ETREAT / BTG;
 * - citizens: own documents from `citizenOwnAccessAge`, NORU, NORN_* and HL7 V withheld, HL7 R
 *   also withheld below `citizenAdultAge`; others' documents only with the matching acp code.
 */
import { error, type RegistryErrorInfo } from '../../registry/model/errors.js';
import { bareOid, parseCx } from '../../registry/model/hl7.js';
import { NO_EXTRA, type Code, type DocumentEntry, type RegistryObject } from '../../registry/model/metadata.js';
import { isValidNorwegianId, NORWEGIAN_ID_OID } from '../../registry/patients.js';
import type { TrustPolicyConfig } from './config.js';
import type { Principal, PurposeOfUse } from './principal.js';

export const CODE_SYSTEMS = {
  /** Volven 9060 kategori helsepersonell (roles). */
  role: '2.16.578.1.12.4.1.1.9060',
  /** Volven 9603 confidentiality (N, NORS, NORU, NORN_*). */
  volvenConfidentiality: '2.16.578.1.12.4.1.1.9603',
  /** HL7 v3 Confidentiality (N, R, V). */
  hl7Confidentiality: '2.16.840.1.113883.5.25',
} as const;

/** urn:ihe:iti:xua:2012:acp values (NHN, 2.16.578.1.12.4.1.7.2.1.N), bare. */
export const ACP = {
  parentOfChildUnder12: '2.16.578.1.12.4.1.7.2.1.1',
  powerOfAttorney: '2.16.578.1.12.4.1.7.2.1.2',
  representsUnableToConsent: '2.16.578.1.12.4.1.7.2.1.3',
} as const;

export const MASKED_TITLE = 'Sperret';

const CITIZEN_PURPOSES: ReadonlySet<PurposeOfUse> = new Set(['PATRQT', 'FAMRQT', 'PWATRNY']);
const BREAK_GLASS: ReadonlySet<PurposeOfUse> = new Set(['ETREAT', 'BTG']);

export type PrincipalKind = 'personnel' | 'citizen';

export interface Permit {
  readonly permit: true;
  readonly kind: PrincipalKind;
  /** ETREAT / BTG: NORS entries are shown and may be retrieved (and must be audited as such). */
  readonly breakGlass: boolean;
  /** Citizen below the adult age: HL7 R is withheld as well. */
  readonly minor: boolean;
  /** The patient the request is bound to (the assertion's resource-id). */
  readonly patientId: string;
  /** Which rule permitted (for audit). */
  readonly rule: string;
}

export interface Denial {
  readonly permit: false;
  /** Which rule denied (ATT-4, ATT-10, missing-attribute, role, …), for audit. */
  readonly rule: string;
  readonly reason: string;
}

export type Decision = Permit | Denial;

export type PolicyOptions = TrustPolicyConfig;

const deny = (rule: string, reason: string): Denial => ({ permit: false, rule, reason });

/** The RegistryError of a whole-request denial, as NHN's reference source sends it. */
export function denialError(denial: Denial, homeCommunityId: string | undefined): RegistryErrorInfo {
  return error('XDSRegistryError', `access denied: ${denial.reason}`, homeCommunityId);
}

/** Patient CX values compared on id and bare assigning-authority OID (urn:oid: or not, escaping aside). */
export function samePatient(a: string, b: string): boolean {
  const x = parseCx(a.trim());
  const y = parseCx(b.trim());
  const oid = (cx: typeof x): string => bareOid(cx.assigningAuthority?.universalId ?? '');
  return x.id === y.id && x.id !== '' && oid(x) === oid(y);
}

/**
 * Decides whether this principal may query or retrieve for `queriedPatientId` at all. `now` is
 * for the citizen age rules.
 */
export function decideRequest(principal: Principal, queriedPatientId: string | undefined, options: PolicyOptions, now: Date = new Date()): Decision {
  if (principal.subjectId.trim() === '') return deny('missing-attribute', 'the assertion names no subject');
  if (!principal.organizationId && !principal.organizationName) return deny('missing-attribute', 'the assertion names no organisation');
  if (!principal.patientId) return deny('missing-attribute', 'the assertion names no patient (resource-id)');
  if (!principal.purposeOfUse) return deny('purpose-of-use', `unknown purpose of use ${principal.purposeOfUseCode?.code ?? '(none)'}`);

  // ATT-10: health personnel and citizens alike are identified by their national id.
  const synthetic = { synthetic: options.acceptSyntheticIds };
  if (!isValidNorwegianId(principal.subjectId, 'F', synthetic) && !isValidNorwegianId(principal.subjectId, 'D', synthetic)) {
    return deny('ATT-10', 'the user id is not a valid fødselsnummer or D-number');
  }
  // ATT-4: the assertion is bound to one patient.
  if (queriedPatientId === undefined || !samePatient(principal.patientId, queriedPatientId)) {
    return deny('ATT-4', 'the assertion’s resource-id is not the patient of the request');
  }
  if (!principal.securityLevel || !options.securityLevels.includes(principal.securityLevel)) {
    return deny('security-level', `security level ${principal.securityLevel ?? '(none)'} is not accepted`);
  }

  if (CITIZEN_PURPOSES.has(principal.purposeOfUse)) return decideCitizen(principal, principal.patientId, options, now);

  const role = principal.role;
  if (!role || role.codeSystem !== CODE_SYSTEMS.role || !options.roles.includes(role.code)) {
    return deny('role', `role ${role?.code ?? '(none)'} may not access documents`);
  }
  return {
    permit: true,
    kind: 'personnel',
    breakGlass: BREAK_GLASS.has(principal.purposeOfUse),
    minor: false,
    patientId: principal.patientId,
    rule: BREAK_GLASS.has(principal.purposeOfUse) ? 'personnel-emergency' : 'personnel',
  };
}

function decideCitizen(principal: Principal, patientId: string, options: PolicyOptions, now: Date): Decision {
  if (options.citizenIssuers.length > 0 && !options.citizenIssuers.includes(principal.issuer)) {
    return deny('citizen-issuer', `issuer ${principal.issuer} may not issue citizen assertions`);
  }
  const patient = parseCx(patientId);
  const patientAge = ageOf(patient.id, bareOid(patient.assigningAuthority?.universalId ?? ''), now);
  const permit = (rule: string, age: number): Permit => ({
    permit: true,
    kind: 'citizen',
    breakGlass: false,
    minor: age < options.citizenAdultAge,
    patientId,
    rule,
  });
  if (patientAge === undefined) return deny('citizen-age', 'the patient’s age cannot be determined from the patient id');

  if (patient.id === principal.subjectId) {
    if (patientAge < options.citizenOwnAccessAge) {
      return deny('citizen-age', `citizens below ${options.citizenOwnAccessAge} have no access to their own documents`);
    }
    return permit('citizen-own', patientAge);
  }
  const acp = new Set(principal.accessConsentPolicies);
  if (acp.has(ACP.parentOfChildUnder12)) {
    if (patientAge < options.parentalAccessBelowAge) return permit('citizen-parent', patientAge);
    return deny('citizen-representation', `parental access ends when the child turns ${options.parentalAccessBelowAge}`);
  }
  if (acp.has(ACP.powerOfAttorney) || acp.has(ACP.representsUnableToConsent)) {
    // A youth between the parental and the own-access age has records nobody else may open on
    // their behalf (reference source: CitizenBetween12And16ShouldNotSeeDocumentReferences).
    if (patientAge >= options.parentalAccessBelowAge && patientAge < options.citizenOwnAccessAge) {
      return deny('citizen-representation', 'documents of patients aged 12–16 are not open to representatives');
    }
    return permit('citizen-representative', patientAge);
  }
  return deny('citizen-representation', 'a citizen may see another person’s documents only with a matching access-consent policy');
}

/** Age in whole years from an F- or D-number (D: day + 40); undefined for other ids. */
export function ageOf(id: string, authorityOid: string, now: Date): number | undefined {
  if (authorityOid !== NORWEGIAN_ID_OID.fodselsnummer && authorityOid !== NORWEGIAN_ID_OID.dNumber) return undefined;
  const birth = birthDate(id);
  if (!birth) return undefined;
  let age = now.getUTCFullYear() - birth.year;
  const beforeBirthday = now.getUTCMonth() + 1 < birth.month || (now.getUTCMonth() + 1 === birth.month && now.getUTCDate() < birth.day);
  if (beforeBirthday) age--;
  return age;
}

/**
 * Birth date of an 11-digit F- or D-number, with the century from the individual number
 * (Skatteetaten's ranges) and synthetic months (+80) undone.
 */
function birthDate(id: string): { year: number; month: number; day: number } | undefined {
  if (!/^\d{11}$/.test(id)) return undefined;
  let day = Number(id.slice(0, 2));
  let month = Number(id.slice(2, 4));
  const yy = Number(id.slice(4, 6));
  const individual = Number(id.slice(6, 9));
  if (day > 40) day -= 40;
  if (month > 80) month -= 80;
  let year: number;
  if (individual <= 499) year = 1900 + yy;
  else if (individual <= 749 && yy >= 54) year = 1800 + yy;
  else if (yy <= 39) year = 2000 + yy;
  else if (individual >= 900) year = 1900 + yy;
  else return undefined;
  return { year, month, day };
}

const hasCode = (codes: readonly Code[], scheme: string, test: (code: string) => boolean): boolean =>
  codes.some((c) => c.scheme !== undefined && bareOid(c.scheme) === scheme && test(c.code));

/** Entry coded NORS (Volven 9603): blocked for health personnel (sperret). */
export function isNors(entry: DocumentEntry): boolean {
  return hasCode(entry.confidentialityCodes, CODE_SYSTEMS.volvenConfidentiality, (c) => c === 'NORS');
}

/** Entry a citizen may not see: NORU / NORN_* (9603) or HL7 V; HL7 R as well for a minor. */
export function isWithheldFromCitizen(entry: DocumentEntry, minor: boolean): boolean {
  const codes = entry.confidentialityCodes;
  return (
    hasCode(codes, CODE_SYSTEMS.volvenConfidentiality, (c) => c === 'NORU' || c.startsWith('NORN')) ||
    hasCode(codes, CODE_SYSTEMS.hl7Confidentiality, (c) => c === 'V' || (minor && c === 'R'))
  );
}

/**
 * The stub a clinician sees in place of a NORS entry: enough to know that a document exists and
 * to ask the patient about it, nothing about what it is.
 *
 * Kept: identity and plumbing (entryUUID, lid, version, uniqueId, patientId, sourcePatientId (the
 * same person), status, objectType, homeCommunityId, repositoryUniqueId), the confidentiality
 * codes (they explain the stub), creationTime (a date to ask about), and the purely technical
 * mimeType, formatCode, languageCode and documentAvailability.
 * Masked: the title becomes "Sperret"; comments, classCode, typeCode, practiceSettingCode,
 * healthcareFacilityTypeCode, eventCodeList, authors and legalAuthenticator (who treated the
 * patient where, e.g. a psychiatric ward, is itself the secret), service start/stop (when an
 * admission happened), hash and size (they fingerprint the content), sourcePatientInfo,
 * referenceIdList, URI and every extra slot, classification and identifier (unknown content).
 */
export function maskedStub(entry: DocumentEntry): DocumentEntry {
  return {
    type: 'DocumentEntry',
    entryUuid: entry.entryUuid,
    objectType: entry.objectType,
    availabilityStatus: entry.availabilityStatus,
    ...(entry.logicalUuid !== undefined ? { logicalUuid: entry.logicalUuid } : {}),
    ...(entry.version !== undefined ? { version: entry.version } : {}),
    ...(entry.uniqueId !== undefined ? { uniqueId: entry.uniqueId } : {}),
    ...(entry.patientId !== undefined ? { patientId: entry.patientId } : {}),
    ...(entry.sourcePatientId !== undefined ? { sourcePatientId: entry.sourcePatientId } : {}),
    ...(entry.homeCommunityId !== undefined ? { homeCommunityId: entry.homeCommunityId } : {}),
    ...(entry.repositoryUniqueId !== undefined ? { repositoryUniqueId: entry.repositoryUniqueId } : {}),
    ...(entry.creationTime !== undefined ? { creationTime: entry.creationTime } : {}),
    ...(entry.mimeType !== undefined ? { mimeType: entry.mimeType } : {}),
    ...(entry.formatCode !== undefined ? { formatCode: entry.formatCode } : {}),
    ...(entry.languageCode !== undefined ? { languageCode: entry.languageCode } : {}),
    ...(entry.documentAvailability !== undefined ? { documentAvailability: entry.documentAvailability } : {}),
    title: { value: MASKED_TITLE, ...(entry.title?.lang ? { lang: entry.title.lang } : {}) },
    confidentialityCodes: entry.confidentialityCodes,
    eventCodes: [],
    authors: [],
    sourcePatientInfo: [],
    referenceIdList: [],
    extra: NO_EXTRA,
  };
}

export interface FilteredResult<T extends RegistryObject = RegistryObject> {
  readonly objects: readonly T[];
  /** entryUUIDs returned as masked stubs. */
  readonly masked: readonly string[];
  /** entryUUIDs left out. */
  readonly withheld: readonly string[];
}

/**
 * Filters and masks a query result for a permitted principal. Returns a Denial (ATT-4) when any
 * object belongs to another patient than the one the assertion is bound to: that is a registry
 * answering for a patient it was not asked about, and nothing of it may leave.
 */
export function filterQueryResult<T extends RegistryObject>(permit: Permit, objects: readonly T[]): FilteredResult<T> | Denial {
  for (const o of objects) {
    if (o.type !== 'Association' && o.patientId !== undefined && !samePatient(o.patientId, permit.patientId)) {
      return deny('ATT-4', `registry object ${o.entryUuid} belongs to another patient than the assertion’s resource-id`);
    }
  }
  const masked: string[] = [];
  const withheld = new Set<string>();
  const out: T[] = [];
  for (const o of objects) {
    if (o.type !== 'DocumentEntry') continue;
    const entry = o as DocumentEntry;
    if (permit.kind === 'citizen') {
      if (isWithheldFromCitizen(entry, permit.minor)) withheld.add(entry.entryUuid);
    } else if (isNors(entry) && !permit.breakGlass) {
      masked.push(entry.entryUuid);
    }
  }
  const maskedSet = new Set(masked);
  for (const o of objects) {
    if (o.type === 'DocumentEntry') {
      if (withheld.has(o.entryUuid)) continue;
      out.push((maskedSet.has(o.entryUuid) ? maskedStub(o as DocumentEntry) : o) as T);
    } else if (o.type === 'Association') {
      // An association to a withheld entry would betray that the entry exists.
      if (withheld.has(o.sourceUuid) || withheld.has(o.targetUuid)) continue;
      out.push(o);
    } else {
      out.push(o);
    }
  }
  return { objects: out, masked, withheld: [...withheld] };
}

/**
 * Whether a permitted principal may retrieve this entry's document (ITI-43 / ITI-39): the
 * registry entry decides, since the document itself carries no codes.
 */
export function decideRetrieve(permit: Permit, entry: DocumentEntry): Decision {
  if (entry.patientId === undefined || !samePatient(entry.patientId, permit.patientId)) {
    return deny('ATT-4', `document ${entry.uniqueId ?? entry.entryUuid} belongs to another patient than the assertion’s resource-id`);
  }
  if (permit.kind === 'citizen' && isWithheldFromCitizen(entry, permit.minor)) {
    return deny('confidentiality', `document ${entry.uniqueId ?? entry.entryUuid} is not available to citizens`);
  }
  if (permit.kind === 'personnel' && isNors(entry) && !permit.breakGlass) {
    return deny('NORS', `document ${entry.uniqueId ?? entry.entryUuid} is blocked (sperret) for health personnel`);
  }
  return permit;
}
