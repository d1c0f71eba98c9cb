/**
 * HelseID access-token claims → the Principal the SAML path produces (../principal.ts), so that
 * the access policy, patient blocks and audit treat an MHD request exactly like an XDS one.
 *
 * A HelseID token carries who the user is in flat claims (`helseid://claims/...`, OpenID names)
 * and, when the client sent one, the trust-framework attestation (*tillitsrammeverk*: the national
 * rules for attesting why a clinician may see a patient's records) as a JSON structure: the
 * practitioner's authorisation and organisation, the care relationship (purpose of use,
 * healthcare service, decision reference) and the patients. HelseID reflects it in the access
 * token in `authorization_details` (RFC 9396) as the entry of type `nhn:tillitsrammeverk:parameters`;
 * NHN's reference document source reads it as a claim of that name, so both places are read. The
 * IHE IUA JWT extension (`extensions.ihe_iua`) is read too, for authorisation servers other than
 * HelseID.
 *
 * The stance is principal.ts's: lenient in form (string or array, snake_case or kebab-case field
 * names, a number or a string security level), strict in meaning. When two sources of one
 * identity-bearing concept disagree (the pid claim and the attested practitioner, two patients,
 * two purposes, orgnr_parent and the attested legal entity) the token is refused as ambiguous: a
 * policy must never have to guess which value the issuer meant.
 *
 * Verification (signature, issuer, audience, time, DPoP) is verify.ts's; this module only reads.
 */
import { bareOid } from '../../../registry/model/hl7.js';
import { mapPurposeOfUse, PURPOSE_OF_USE_SYSTEMS, type CodedValue, type DecisionRef, type InstanceIdentifier, type Principal } from '../principal.js';

/**
 * Every claim this module reads, and what it becomes. Top-level claims are names; `attestation`
 * and `iua` are paths inside the two structured claims. Attestation field names are written in
 * snake_case, as HelseID and NHN's reference source send them; the trust framework's data-model
 * spelling with hyphens (`care-relationship`, `purpose-of-use`, `hpr-nr`) is accepted as well.
 */
export const CLAIMS = {
  /** RFC 7519 `jti` → Principal.assertionId (and the verifier's tokenId). */
  tokenId: 'jti',
  /** `iss` → Principal.issuer. */
  issuer: 'iss',
  /** `aud` (string or array) → Principal.audiences. */
  audience: 'aud',
  /** `nbf` → Principal.notBefore. */
  notBefore: 'nbf',
  /** `exp` → Principal.notOnOrAfter. */
  expires: 'exp',
  /** OIDC `auth_time` → Principal.authnInstant. */
  authTime: 'auth_time',
  /** OIDC `acr` → Principal.authnContextClassRef. */
  acr: 'acr',
  /** RFC 9068 `client_id` → Principal.clientId. */
  clientId: 'client_id',
  /** `scope` (space-separated string, or an array as HelseID sends it) → Principal.scope, verifier scopes. */
  scope: 'scope',
  /** RFC 9449 `cnf.jkt`: the DPoP key the token is bound to (read by verify.ts). */
  confirmation: 'cnf',
  /** The user's fødselsnummer or D-nummer (national identity numbers) → Principal.subjectId. */
  pid: 'helseid://claims/identity/pid',
  /** Authentication level 3 or 4 (string or number) → Principal.securityLevel. */
  securityLevel: 'helseid://claims/identity/security_level',
  /** HPR-nummer (health personnel register), string or array → Principal.hprNumber. */
  hprNumber: 'helseid://claims/hpr/hpr_number',
  /** OIDC `name` → Principal.subjectName (else given, middle and family name joined). */
  name: 'name',
  givenName: 'given_name',
  middleName: 'middle_name',
  familyName: 'family_name',
  /** The client's legal entity (org.nr) → Principal.organizationId, root 2.16.578.1.12.4.1.4.101. */
  orgnrParent: 'helseid://claims/client/claims/orgnr_parent',
  /** The client's point of care (org.nr) → Principal.childOrganizationId. */
  orgnrChild: 'helseid://claims/client/claims/orgnr_child',
  /** RFC 9396 list of authorization details; the attestation is the entry of type `attestationType`. */
  authorizationDetails: 'authorization_details',
  /** The attestation's `type`, and the top-level claim NHN's reference source reads it from. */
  attestationType: 'nhn:tillitsrammeverk:parameters',
  /** Paths inside the attestation. */
  attestation: {
    /** practitioner.identifier.id → Principal.subjectId (must agree with pid); .name → subjectName. */
    practitionerIdentifier: ['practitioner', 'identifier'],
    /** practitioner.hpr_nr.id → Principal.hprNumber (must agree with hpr_number). */
    practitionerHpr: ['practitioner', 'hpr_nr'],
    /** practitioner.authorization {code, system, text}: Volven 9060 → Principal.role. */
    practitionerAuthorization: ['practitioner', 'authorization'],
    /** practitioner.legal_entity {id, name, system} → Principal.organizationId / organizationName. */
    practitionerLegalEntity: ['practitioner', 'legal_entity'],
    /** practitioner.point_of_care {id, name, system} → Principal.childOrganizationId / childOrganizationName. */
    practitionerPointOfCare: ['practitioner', 'point_of_care'],
    /** care_relationship.purpose_of_use {code, system, text} → Principal.purposeOfUseCode / purposeOfUse. */
    purposeOfUse: ['care_relationship', 'purpose_of_use'],
    /** care_relationship.purpose_of_use_details → Principal.purposeOfUseDetails. */
    purposeOfUseDetails: ['care_relationship', 'purpose_of_use_details'],
    /** care_relationship.healthcare_service (Volven 8655 / 8663 …) → Principal.healthcareService. */
    healthcareService: ['care_relationship', 'healthcare_service'],
    /** care_relationship.decision_ref {id, user_selected} → Principal.decisionRef. */
    decisionRef: ['care_relationship', 'decision_ref'],
    /** patients[].identifier {id, system} → Principal.patientId as a CX (exactly one patient). */
    patients: ['patients'],
  },
  /** IHE IUA JWT extension: `extensions.ihe_iua.<name>`. */
  iua: {
    path: ['extensions', 'ihe_iua'],
    /** → Principal.subjectName. */
    subjectName: 'subject_name',
    /** → Principal.organizationName. */
    subjectOrganization: 'subject_organization',
    /** → Principal.organizationId (as sent). */
    subjectOrganizationId: 'subject_organization_id',
    /** Coding {system, code} → Principal.role. */
    subjectRole: 'subject_role',
    /** Coding {system, code} → Principal.purposeOfUseCode / purposeOfUse. */
    purposeOfUse: 'purpose_of_use',
    /** → Principal.homeCommunityId. */
    homeCommunityId: 'home_community_id',
    /** → Principal.hprNumber. */
    nationalProviderIdentifier: 'national_provider_identifier',
    /** The patient as a CX → Principal.patientId. */
    personId: 'person_id',
    /** Access-consent policy OIDs → Principal.accessConsentPolicies. */
    acp: 'acp',
    /** → Principal.consentDocumentId. */
    docId: 'doc_id',
  },
} as const;

/** The org.nr assigning authority (the value connector/audit/dicom.ts also names). */
const ORGANISATION_NUMBER_OID = '2.16.578.1.12.4.1.4.101';

/**
 * FHIR code-system URLs of the HL7 purposes, onto the OIDs principal.ts maps: an IUA server writes
 * Codings with URLs where HelseID's attestation writes `urn:oid:`.
 */
const PURPOSE_SYSTEM_URLS: Readonly<Record<string, string>> = {
  'http://terminology.hl7.org/CodeSystem/v3-ActReason': PURPOSE_OF_USE_SYSTEMS.hl7ActReason,
  'http://terminology.hl7.org/ValueSet/v3-PurposeOfUse': PURPOSE_OF_USE_SYSTEMS.hl7ValueSet,
};

export type ClaimsResult = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string };

/** A token this module cannot read unambiguously; caught in principalFromAccessToken. */
class ClaimError extends Error {}

type Json = Record<string, unknown>;

/**
 * Reads the Principal from a verified access token's claims set. Refuses (never throws) a token
 * without a user id, with conflicting values, or with a malformed attestation.
 */
export function principalFromAccessToken(claims: Readonly<Record<string, unknown>>): ClaimsResult {
  try {
    return { ok: true, principal: readPrincipal(claims) };
  } catch (e) {
    if (e instanceof ClaimError) return { ok: false, reason: e.message };
    throw e;
  }
}

/** The scopes a token grants: `scope` as a space-separated string or an array of strings. */
export function scopesOf(claims: Readonly<Record<string, unknown>>): string[] {
  const value = claims[CLAIMS.scope];
  const parts = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  return [...new Set(parts.map((s) => s.trim()).filter((s) => s !== ''))];
}

function readPrincipal(claims: Readonly<Record<string, unknown>>): Principal {
  const tf = attestation(claims);
  const iua = objectAt(claims, CLAIMS.iua.path, 'extensions.ihe_iua');
  const at = (path: readonly string[]): unknown => (tf ? valueAt(tf, path) : undefined);
  const iuaValue = (name: string): unknown => (iua ? iua[name] : undefined);

  const practitionerId = optionalObject(at(CLAIMS.attestation.practitionerIdentifier), 'practitioner.identifier');
  const subjectId = agreeText('user id (helseid://claims/identity/pid, practitioner.identifier)', [
    text(claims[CLAIMS.pid]),
    text(practitionerId ? field(practitionerId, 'id') : undefined),
  ]);
  if (!subjectId) throw new ClaimError('the token names no user (helseid://claims/identity/pid)');

  const hprNumber = agreeText('HPR number', [
    ...texts(claims[CLAIMS.hprNumber]),
    text(fieldOf(at(CLAIMS.attestation.practitionerHpr), 'id', 'practitioner.hpr_nr')),
    text(iuaValue(CLAIMS.iua.nationalProviderIdentifier)),
  ]);

  const role = agreeCoded('role', [coded(at(CLAIMS.attestation.practitionerAuthorization), 'practitioner.authorization'), ...codings(iuaValue(CLAIMS.iua.subjectRole), 'subject_role')]);
  const purposeOfUseCode = agreeCoded('purpose of use', [
    coded(at(CLAIMS.attestation.purposeOfUse), 'care_relationship.purpose_of_use'),
    ...codings(iuaValue(CLAIMS.iua.purposeOfUse), 'purpose_of_use'),
  ]);

  const legalEntity = optionalObject(at(CLAIMS.attestation.practitionerLegalEntity), 'practitioner.legal_entity');
  const pointOfCare = optionalObject(at(CLAIMS.attestation.practitionerPointOfCare), 'practitioner.point_of_care');
  const organizationId = agreeId('organisation (orgnr_parent, practitioner.legal_entity)', [
    orgnr(claims[CLAIMS.orgnrParent]),
    identifier(legalEntity),
    textId(iuaValue(CLAIMS.iua.subjectOrganizationId)),
  ]);
  const childOrganizationId = agreeId('point of care (orgnr_child, practitioner.point_of_care)', [orgnr(claims[CLAIMS.orgnrChild]), identifier(pointOfCare)]);

  const patientId = agreeText('patient', [...attestedPatients(at(CLAIMS.attestation.patients)), text(iuaValue(CLAIMS.iua.personId))]);

  const decisionRefValue = optionalObject(at(CLAIMS.attestation.decisionRef), 'care_relationship.decision_ref');
  const exp = numeric(claims[CLAIMS.expires]);
  if (exp === undefined) throw new ClaimError('the token has no exp');
  const nbf = numeric(claims[CLAIMS.notBefore]);
  const authTime = numeric(claims[CLAIMS.authTime]);
  const community = text(iuaValue(CLAIMS.iua.homeCommunityId));

  return {
    assertionId: text(claims[CLAIMS.tokenId]) ?? '',
    issuer: text(claims[CLAIMS.issuer]) ?? '',
    subjectId,
    ...opt('subjectName', subjectName(claims, practitionerId, iuaValue(CLAIMS.iua.subjectName))),
    ...opt('hprNumber', hprNumber),
    ...opt('role', role),
    ...opt('purposeOfUseCode', purposeOfUseCode),
    ...opt('purposeOfUse', purposeOfUseCode ? mapPurposeOfUse(purposeOfUseCode) : undefined),
    ...opt('patientId', patientId),
    ...opt('organizationName', text(legalEntity ? field(legalEntity, 'name') : undefined) ?? text(iuaValue(CLAIMS.iua.subjectOrganization))),
    ...opt('organizationId', organizationId),
    ...opt('childOrganizationId', childOrganizationId),
    ...opt('childOrganizationName', text(pointOfCare ? field(pointOfCare, 'name') : undefined)),
    ...opt('healthcareService', coded(at(CLAIMS.attestation.healthcareService), 'care_relationship.healthcare_service')),
    ...opt('purposeOfUseDetails', coded(at(CLAIMS.attestation.purposeOfUseDetails), 'care_relationship.purpose_of_use_details')),
    ...opt('decisionRef', decisionRefValue ? decisionRef(decisionRefValue) : undefined),
    ...opt('securityLevel', text(claims[CLAIMS.securityLevel])),
    ...opt('scope', scopesOf(claims).join(' ') || undefined),
    ...opt('clientId', text(claims[CLAIMS.clientId])),
    accessConsentPolicies: [...new Set(texts(iuaValue(CLAIMS.iua.acp)).map((v) => bareOid(v)))],
    ...opt('consentDocumentId', text(iuaValue(CLAIMS.iua.docId))),
    ...opt('homeCommunityId', community ? `urn:oid:${bareOid(community)}` : undefined),
    audiences: texts(claims[CLAIMS.audience]),
    ...opt('notBefore', nbf === undefined ? undefined : new Date(nbf * 1000)),
    notOnOrAfter: new Date(exp * 1000),
    ...opt('authnInstant', authTime === undefined ? undefined : new Date(authTime * 1000)),
    ...opt('authnContextClassRef', text(claims[CLAIMS.acr])),
    attributes: attributesOf(claims),
  };
}

/**
 * The trust-framework attestation: the `authorization_details` entry of its type, or the claim
 * named after the type (an object, or its JSON text). Two different ones are ambiguous.
 */
function attestation(claims: Readonly<Record<string, unknown>>): Json | undefined {
  const found: Json[] = [];
  const details = claims[CLAIMS.authorizationDetails];
  if (details !== undefined) {
    // RFC 9396 makes it an array; early HelseID drafts sent one object.
    const entries = Array.isArray(details) ? details : [details];
    for (const entry of entries) {
      if (!isObject(entry)) throw new ClaimError('authorization_details holds a value that is not an object');
      if (entry.type === CLAIMS.attestationType) found.push(entry);
    }
  }
  const direct = claims[CLAIMS.attestationType];
  if (direct !== undefined) found.push(parseObject(direct, CLAIMS.attestationType));
  const distinct = new Map(found.map((a) => [canonicalJson(a), a]));
  if (distinct.size > 1) throw new ClaimError('the token carries more than one trust-framework attestation');
  return [...distinct.values()][0];
}

function parseObject(value: unknown, what: string): Json {
  if (isObject(value)) return value;
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isObject(parsed)) return parsed;
    } catch {
      // fall through to the refusal below
    }
  }
  throw new ClaimError(`${what} is not a JSON object`);
}

/** patients[].identifier as CX values; patients without an identifier name nobody. */
function attestedPatients(value: unknown): (string | undefined)[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ClaimError('patients is not an array');
  return value.map((p, i) => {
    if (!isObject(p)) throw new ClaimError(`patients[${i}] is not an object`);
    const id = optionalObject(field(p, 'identifier'), `patients[${i}].identifier`);
    if (!id) return undefined;
    const extension = text(field(id, 'id'));
    if (!extension) throw new ClaimError(`patients[${i}].identifier has no id`);
    const system = text(field(id, 'system'));
    // An id without its assigning authority cannot be compared to a queried patient (policy.ts
    // samePatient compares authorities), so it stays a bare id and the request is denied (ATT-4).
    return system ? `${extension}^^^&${bareOid(system)}&ISO` : extension;
  });
}

function subjectName(claims: Readonly<Record<string, unknown>>, practitionerId: Json | undefined, iuaName: unknown): string | undefined {
  const full = text(claims[CLAIMS.name]);
  if (full) return full;
  const parts = [CLAIMS.givenName, CLAIMS.middleName, CLAIMS.familyName].map((n) => text(claims[n])).filter((p): p is string => p !== undefined);
  if (parts.length > 0) return parts.join(' ');
  return text(practitionerId ? field(practitionerId, 'name') : undefined) ?? text(iuaName);
}

function decisionRef(value: Json): DecisionRef {
  const id = text(field(value, 'id'));
  const selected = field(value, 'user_selected');
  const userSelected = typeof selected === 'boolean' ? selected : typeof selected === 'string' ? selected.toLowerCase() === 'true' : undefined;
  return { raw: JSON.stringify(value), ...(id ? { id } : {}), ...(userSelected !== undefined ? { userSelected } : {}) };
}

/** A trust-framework coded value {code, system, text}; present without a code is refused. */
function coded(value: unknown, what: string): CodedValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : { code: value.trim() };
  if (!isObject(value)) throw new ClaimError(`${what} is not an object`);
  const code = text(field(value, 'code'));
  if (!code) throw new ClaimError(`${what} has no code`);
  const system = text(field(value, 'system'));
  const display = text(field(value, 'text')) ?? text(field(value, 'display'));
  return { code, ...(system ? { codeSystem: codeSystem(system) } : {}), ...(display ? { displayName: display } : {}) };
}

/** An IUA Coding or an array of them. */
function codings(value: unknown, what: string): (CodedValue | undefined)[] {
  if (Array.isArray(value)) return value.map((v, i) => coded(v, `${what}[${i}]`));
  return [coded(value, what)];
}

function codeSystem(system: string): string {
  return PURPOSE_SYSTEM_URLS[system] ?? bareOid(system);
}

/** {id, system} of an organisation; one without an id names none. */
function identifier(value: Json | undefined): InstanceIdentifier | undefined {
  if (!value) return undefined;
  const extension = text(field(value, 'id'));
  if (!extension) return undefined;
  const system = text(field(value, 'system'));
  return { extension, ...(system ? { root: bareOid(system) } : {}) };
}

function orgnr(value: unknown): InstanceIdentifier | undefined {
  const extension = text(value);
  return extension ? { extension, root: ORGANISATION_NUMBER_OID } : undefined;
}

function textId(value: unknown): InstanceIdentifier | undefined {
  const extension = text(value);
  return extension ? { extension } : undefined;
}

/** One value of a concept several sources may carry; different values make the token ambiguous. */
function agreeText(what: string, values: readonly (string | undefined)[]): string | undefined {
  const distinct = [...new Set(values.filter((v): v is string => v !== undefined))];
  if (distinct.length > 1) throw new ClaimError(`the token carries conflicting ${what} values`);
  return distinct[0];
}

function agreeCoded(what: string, values: readonly (CodedValue | undefined)[]): CodedValue | undefined {
  const distinct = new Map<string, CodedValue>();
  for (const v of values) {
    const key = v ? `${v.code}\u0000${v.codeSystem ?? ''}` : undefined;
    if (v && key !== undefined && !distinct.has(key)) distinct.set(key, v);
  }
  if (distinct.size > 1) throw new ClaimError(`the token carries conflicting ${what} values`);
  return [...distinct.values()][0];
}

/** Identifiers agree when their extensions match and their roots do wherever both have one. */
function agreeId(what: string, values: readonly (InstanceIdentifier | undefined)[]): InstanceIdentifier | undefined {
  let chosen: InstanceIdentifier | undefined;
  for (const v of values) {
    if (!v) continue;
    if (!chosen) {
      chosen = v;
      continue;
    }
    if (chosen.extension !== v.extension || (chosen.root !== undefined && v.root !== undefined && chosen.root !== v.root)) {
      throw new ClaimError(`the token carries conflicting ${what} values`);
    }
    if (chosen.root === undefined && v.root !== undefined) chosen = v;
  }
  return chosen;
}

/** A field by its snake_case name or the data model's hyphenated one; both present must agree. */
function field(obj: Json, snake: string): unknown {
  const kebab = snake.replaceAll('_', '-');
  const a = obj[snake];
  const b = kebab === snake ? undefined : obj[kebab];
  if (a !== undefined && b !== undefined && canonicalJson(a) !== canonicalJson(b)) {
    throw new ClaimError(`the attestation spells ${snake} twice with different values`);
  }
  return a ?? b;
}

function fieldOf(value: unknown, name: string, what: string): unknown {
  const obj = optionalObject(value, what);
  return obj ? field(obj, name) : undefined;
}

function valueAt(obj: Json, path: readonly string[]): unknown {
  let current: unknown = obj;
  for (const step of path) {
    if (current === undefined || current === null) return undefined;
    if (!isObject(current)) throw new ClaimError(`the attestation's ${step} is not inside an object`);
    current = field(current, step);
  }
  return current;
}

function objectAt(obj: Readonly<Record<string, unknown>>, path: readonly string[], what: string): Json | undefined {
  let current: unknown = obj;
  for (const step of path) {
    if (current === undefined || current === null) return undefined;
    if (!isObject(current)) throw new ClaimError(`${what} is not an object`);
    current = current[step];
  }
  return optionalObject(current, what);
}

function optionalObject(value: unknown, what: string): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ClaimError(`${what} is not an object`);
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A claim value as text: strings trimmed, numbers written out (security_level 4), else nothing. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A string-or-array claim as its texts. */
function texts(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map(text).filter((v): v is string => v !== undefined);
}

function numeric(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Every claim by name, values as text (objects as JSON), for audit, like the SAML attributes. */
function attributesOf(claims: Readonly<Record<string, unknown>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(claims)) {
    const list = Array.isArray(value) ? value : [value];
    out[name] = list.filter((v) => v !== undefined && v !== null).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  }
  return out;
}

/** JSON with sorted keys, to compare two structures regardless of key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
