/**
 * The Principal: who is asking, for whom, on whose behalf and why, as read from a verified SAML
 * 2.0 assertion (XUA, ITI-40) under the Norwegian trust framework (docs/norway.md).
 *
 * Attribute names occur in the old (v1.x) and new (v2.x) spelling, often both in one token, and
 * with varying case (`purposeOfUse` / `purposeofuse`) or without their URN prefix (`SecurityLevel`
 * from helsenorge): each concept lists every spelling and names are compared case-insensitively.
 * When two spellings of an identity-bearing concept disagree (two roles, two purposes, two
 * patients) the token is ambiguous and refused: a policy must never have to guess which value the
 * issuer meant (the NIST XUA variants `secondrole` / `secondpurposeofuse` expect a fault too).
 *
 * Coded values arrive three ways: as child elements (IHE XUA style), as escaped HL7 XML text
 * (`&lt;Role xmlns="urn:hl7-org:v3" xsi:type="CE" code="LE" …/&gt;`, NHN style, whose `xsi`
 * prefix is not even declared) and as plain text. CX values are sometimes escaped twice
 * (`&amp;amp;`). All are read here, leniently in form but strictly in meaning.
 */
import { bareOid } from '../../registry/model/hl7.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { invalidSecurity } from './faults.js';

/** An HL7 CE/CV: code, code system (bare OID when it is one) and display name. */
export interface CodedValue {
  readonly code: string;
  readonly codeSystem?: string;
  readonly displayName?: string;
}

/** An HL7 II: extension within root (bare OID when it is one). */
export interface InstanceIdentifier {
  readonly extension: string;
  readonly root?: string;
}

/** Purposes of use after mapping ISO 14265 onto HL7 (docs/norway.md). */
export type PurposeOfUse = 'TREAT' | 'ETREAT' | 'COC' | 'BTG' | 'PATRQT' | 'FAMRQT' | 'PWATRNY';

export const PURPOSE_OF_USE_SYSTEMS = {
  /** HL7 v3 PurposeOfUse value set (what NHN sends). */
  hl7ValueSet: '2.16.840.1.113883.1.11.20448',
  /** HL7 v3 ActReason code system (where the PurposeOfUse codes are defined). */
  hl7ActReason: '2.16.840.1.113883.5.8',
  /** ISO 14265 classification of purposes (older tokens, helsenorge). */
  iso14265: '1.0.14265.1',
} as const;

const HL7_PURPOSES: ReadonlySet<string> = new Set(['TREAT', 'ETREAT', 'COC', 'BTG', 'PATRQT', 'FAMRQT', 'PWATRNY']);

/** ISO 14265 → HL7: 1 clinical care, 2 emergency care, 13 subject of care (the citizen). */
const ISO_14265_PURPOSES: Readonly<Record<string, PurposeOfUse>> = { '1': 'TREAT', '2': 'ETREAT', '13': 'PATRQT' };

export interface DecisionRef {
  readonly id?: string;
  readonly userSelected?: boolean;
  /** The attribute value as sent (audit logs keep it whole). */
  readonly raw: string;
}

export interface Principal {
  /** saml:Assertion/@ID. */
  readonly assertionId: string;
  readonly issuer: string;
  /** saml:Subject/saml:NameID: the user's fødselsnummer / D-number. */
  readonly subjectId: string;
  /** subject-id: the user's name (what a patient's access log shows, never the NameID: ATT-8). */
  readonly subjectName?: string;
  /** npi: the HPR number of health personnel (a citizen token repeats the fødselsnummer). */
  readonly hprNumber?: string;
  /** urn:ihe:iti:xua:2017:subject:provider-identifier. */
  readonly providerIdentifier?: InstanceIdentifier;
  /** Volven 9060 role (LE, SP, PS, …). */
  readonly role?: CodedValue;
  /** The purpose of use as sent. */
  readonly purposeOfUseCode?: CodedValue;
  /** The purpose of use mapped to HL7; undefined when the code or its system is unknown. */
  readonly purposeOfUse?: PurposeOfUse;
  /** resource-id: the one patient this assertion is about (CX, single-escaped). */
  readonly patientId?: string;
  readonly organizationName?: string;
  /** organization-id: the legal entity (org.nr, 2.16.578.1.12.4.1.4.101). */
  readonly organizationId?: InstanceIdentifier;
  /** child-organization: the point of care. */
  readonly childOrganizationId?: InstanceIdentifier;
  readonly childOrganizationName?: string;
  readonly healthcareService?: CodedValue;
  readonly purposeOfUseDetails?: CodedValue;
  readonly decisionRef?: DecisionRef;
  readonly securityLevel?: string;
  readonly scope?: string;
  readonly clientId?: string;
  /** urn:ihe:iti:xua:2012:acp access-consent policies, bare OIDs. */
  readonly accessConsentPolicies: readonly string[];
  /** urn:ihe:iti:bppc:2007:docid. */
  readonly consentDocumentId?: string;
  /** The requesting community, `urn:oid:…`. */
  readonly homeCommunityId?: string;
  readonly audiences: readonly string[];
  readonly notBefore?: Date;
  readonly notOnOrAfter: Date;
  readonly authnInstant?: Date;
  readonly authnContextClassRef?: string;
  /** Every attribute by its name as sent, values as text (for audit). */
  readonly attributes: Readonly<Record<string, readonly string[]>>;
}

/** What an AttributeValue carried: its text and, when it was a coded element, the element's attributes. */
interface AttributeValue {
  readonly text: string;
  readonly fields?: Readonly<Record<string, string>>;
  /** Local name of the coded element (Role, PurposeOfUse, id, decision-ref …). */
  readonly element?: string;
}

const XSI_NIL = `{${NS.xsi}}nil`;

/** Attribute names per concept, lower-case. */
const NAMES = {
  subjectName: ['urn:oasis:names:tc:xspa:1.0:subject:subject-id', 'urn:oasis:names:tc:xacml:1.0:subject:subject-id'],
  npi: ['urn:oasis:names:tc:xspa:2.0:subject:npi', 'urn:oasis:names:tc:xspa:1.0:subject:npi'],
  role: ['urn:oasis:names:tc:xspa:1.0:subject:role', 'urn:oasis:names:tc:xacml:2.0:subject:role'],
  purpose: ['urn:oasis:names:tc:xspa:1.0:subject:purposeofuse', 'urn:oasis:names:tc:xacml:2.0:action:purpose'],
  patient: ['urn:oasis:names:tc:xacml:2.0:resource:resource-id', 'urn:oasis:names:tc:xacml:1.0:resource:resource-id'],
  community: ['urn:no:ehelse:saml:1.0:subject:homecommunityid', 'urn:ihe:iti:xca:2010:homecommunityid'],
  providerIdentifier: ['urn:ihe:iti:xua:2017:subject:provider-identifier'],
  organization: ['urn:oasis:names:tc:xspa:1.0:subject:organization', 'urn:ihe:iti:xua:2017:subject:organization'],
  organizationId: ['urn:oasis:names:tc:xspa:1.0:subject:organization-id', 'urn:ihe:iti:xua:2017:subject:organization-id'],
  childOrganization: [
    'urn:oasis:names:tc:xspa:1.0:subject:child-organization',
    'urn:ihe:iti:xua:2017:subject:child-organization',
    'urn:nhn:trust-framework:1.0:ext:subject:child-organization',
  ],
  childOrganizationName: ['urn:nhn:trust-framework:1.0:ext:subject:child-organization-name'],
  healthcareService: ['urn:nhn:trust-framework:1.0:ext:care-relationship:healthcare-service'],
  purposeDetails: ['urn:nhn:trust-framework:1.0:ext:care-relationship:purpose-of-use-details'],
  decisionRef: ['urn:nhn:trust-framework:1.0:ext:care-relationship:decision-ref'],
  securityLevel: ['urn:no:ehelse:saml:1.0:subject:securitylevel', 'securitylevel'],
  scope: ['urn:no:ehelse:saml:1.0:subject:scope', 'scope'],
  clientId: ['urn:no:ehelse:saml:1.0:subject:client_id', 'client_id'],
  acp: ['urn:ihe:iti:xua:2012:acp'],
  consentDocument: ['urn:ihe:iti:bppc:2007:docid'],
} as const;

/** The time and authentication facts verification has already read from the assertion. */
export interface AssertionFacts {
  readonly assertionId: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly notBefore?: Date;
  readonly notOnOrAfter: Date;
  readonly authnInstant?: Date;
  readonly authnContextClassRef?: string;
}

/**
 * Reads the Principal from a saml2:Assertion element. The element must come from the bytes the
 * signature covers (xua.ts passes the signed reference); throws SoapFault wsse:InvalidSecurity
 * when the token is ambiguous or has no subject.
 */
export function principalFromAssertion(assertion: XmlElement, facts: AssertionFacts): Principal {
  const subject = childElement(assertion, NS.saml2, 'Subject');
  const nameIds = subject ? childElements(subject, NS.saml2, 'NameID') : [];
  if (nameIds.length !== 1) throw invalidSecurity('the assertion must have exactly one saml:Subject/saml:NameID');
  const subjectId = textContent(nameIds[0]!).trim();
  if (subjectId === '') throw invalidSecurity('the assertion has an empty saml:NameID');

  const byName = collectAttributes(assertion);
  const values = (concept: keyof typeof NAMES): AttributeValue[] => NAMES[concept].flatMap((n) => byName.get(n) ?? []);

  const roles = distinctCoded(values('role'), 'role');
  if (roles.length > 1) throw invalidSecurity('the assertion carries more than one subject role');
  const purposes = distinctCoded(values('purpose'), 'purpose of use');
  if (purposes.length > 1) throw invalidSecurity('the assertion carries more than one purpose of use');
  const patient = single(values('patient').map((v) => decodeOnce(v.text)), 'resource-id (patient)');
  const npi = single(values('npi').map((v) => v.text), 'npi (HPR number)');
  const organizationId = singleId(values('organizationId'), 'organization-id');
  const childOrganizationId = singleId(values('childOrganization'), 'child-organization');
  const securityLevel = single(values('securityLevel').map((v) => v.text), 'SecurityLevel');
  const community = single(values('community').map((v) => urnOid(v.text)), 'homeCommunityId');
  const providerIdentifier = singleId(values('providerIdentifier'), 'provider-identifier');

  const purposeOfUseCode = purposes[0];
  const decisionRefValue = values('decisionRef')[0];
  const attributes: Record<string, string[]> = {};
  for (const attr of allAttributes(assertion)) {
    const name = attr.attrs.Name ?? '';
    (attributes[name] ??= []).push(...attributeValues(attr).map((v) => v.text));
  }

  return {
    assertionId: facts.assertionId,
    issuer: facts.issuer,
    subjectId,
    ...opt('subjectName', first(values('subjectName').map((v) => v.text))),
    ...opt('hprNumber', npi),
    ...opt('providerIdentifier', providerIdentifier),
    ...opt('role', roles[0]),
    ...opt('purposeOfUseCode', purposeOfUseCode),
    ...opt('purposeOfUse', purposeOfUseCode ? mapPurposeOfUse(purposeOfUseCode) : undefined),
    ...opt('patientId', patient),
    ...opt('organizationName', first(values('organization').map((v) => v.text))),
    ...opt('organizationId', organizationId),
    ...opt('childOrganizationId', childOrganizationId),
    ...opt('childOrganizationName', first(values('childOrganizationName').map((v) => v.text))),
    ...opt('healthcareService', distinctCoded(values('healthcareService'), 'healthcare-service')[0]),
    ...opt('purposeOfUseDetails', distinctCoded(values('purposeDetails'), 'purpose-of-use-details')[0]),
    ...opt('decisionRef', decisionRefValue ? readDecisionRef(decisionRefValue.text) : undefined),
    ...opt('securityLevel', securityLevel),
    ...opt('scope', first(values('scope').map((v) => v.text))),
    ...opt('clientId', first(values('clientId').map((v) => v.text))),
    accessConsentPolicies: [...new Set(values('acp').map((v) => oid(v.text)))],
    ...opt('consentDocumentId', first(values('consentDocument').map((v) => v.text))),
    ...opt('homeCommunityId', community),
    audiences: facts.audiences,
    ...opt('notBefore', facts.notBefore),
    notOnOrAfter: facts.notOnOrAfter,
    ...opt('authnInstant', facts.authnInstant),
    ...opt('authnContextClassRef', facts.authnContextClassRef),
    attributes,
  };
}

/** HL7 PurposeOfUse (value set or ActReason) and ISO 14265 onto one vocabulary; unknown → undefined. */
export function mapPurposeOfUse(code: CodedValue): PurposeOfUse | undefined {
  const system = code.codeSystem;
  if (system === PURPOSE_OF_USE_SYSTEMS.hl7ValueSet || system === PURPOSE_OF_USE_SYSTEMS.hl7ActReason) {
    return HL7_PURPOSES.has(code.code) ? (code.code as PurposeOfUse) : undefined;
  }
  if (system === PURPOSE_OF_USE_SYSTEMS.iso14265) return ISO_14265_PURPOSES[code.code];
  return undefined;
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function first(values: readonly string[]): string | undefined {
  return values.find((v) => v !== '');
}

/** The one value of a concept that may be spelt twice; two different values make the token ambiguous. */
function single(values: readonly string[], what: string): string | undefined {
  const distinct = [...new Set(values.filter((v) => v !== ''))];
  if (distinct.length > 1) throw invalidSecurity(`the assertion carries conflicting ${what} values`);
  return distinct[0];
}

function allAttributes(assertion: XmlElement): XmlElement[] {
  return childElements(assertion, NS.saml2, 'AttributeStatement').flatMap((s) => childElements(s, NS.saml2, 'Attribute'));
}

function collectAttributes(assertion: XmlElement): Map<string, AttributeValue[]> {
  const out = new Map<string, AttributeValue[]>();
  for (const attr of allAttributes(assertion)) {
    const name = (attr.attrs.Name ?? '').trim().toLowerCase();
    if (name === '') continue;
    const list = out.get(name) ?? [];
    list.push(...attributeValues(attr));
    out.set(name, list);
  }
  return out;
}

function attributeValues(attr: XmlElement): AttributeValue[] {
  const out: AttributeValue[] = [];
  for (const v of childElements(attr, NS.saml2, 'AttributeValue')) {
    const nil = v.attrs[XSI_NIL]?.trim();
    if (nil === 'true' || nil === '1') continue;
    const child = childElements(v)[0];
    if (child) {
      out.push({ text: textContent(v).trim(), fields: { ...child.attrs }, element: child.local });
      continue;
    }
    const text = textContent(v).trim();
    if (text === '') continue;
    const snippet = parseEscapedElement(text);
    out.push(snippet ? { text, fields: snippet.fields, element: snippet.name } : { text });
  }
  return out;
}

const START_TAG = /^<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?>/;
const TAG_ATTRIBUTE = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * The start tag of an HL7 element sent as escaped text. Only its own attributes are read (by local
 * name, so `xsi:type` and `type` are both `type`), never nested content: it is a value, not a
 * document, and its prefixes are often undeclared.
 */
function parseEscapedElement(text: string): { name: string; fields: Record<string, string> } | undefined {
  const m = START_TAG.exec(text);
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const a of (m[2] ?? '').matchAll(TAG_ATTRIBUTE)) {
    const local = a[1]!.includes(':') ? a[1]!.slice(a[1]!.indexOf(':') + 1) : a[1]!;
    if (a[1]!.startsWith('xmlns')) continue;
    fields[local] = decodeOnce(a[2] ?? a[3] ?? '');
  }
  const name = m[1]!.includes(':') ? m[1]!.slice(m[1]!.indexOf(':') + 1) : m[1]!;
  return { name, fields };
}

function codedFrom(v: AttributeValue): CodedValue | undefined {
  if (v.fields) {
    const code = v.fields.code?.trim();
    if (!code) return undefined;
    const system = v.fields.codeSystem?.trim();
    const display = v.fields.displayName?.trim();
    return { code, ...(system ? { codeSystem: oid(system) } : {}), ...(display ? { displayName: display } : {}) };
  }
  // A bare code (some issuers send just "LE" or "TREAT"): no code system, so it maps to nothing
  // the policy accepts unless the policy says otherwise.
  return v.text === '' ? undefined : { code: v.text };
}

function distinctCoded(values: readonly AttributeValue[], what: string): CodedValue[] {
  const seen = new Map<string, CodedValue>();
  for (const v of values) {
    const c = codedFrom(v);
    if (!c) throw invalidSecurity(`the ${what} attribute has no code`);
    const key = `${c.code}\u0000${c.codeSystem ?? ''}`;
    if (!seen.has(key)) seen.set(key, c);
  }
  return [...seen.values()];
}

function singleId(values: readonly AttributeValue[], what: string): InstanceIdentifier | undefined {
  const ids = values
    .map((v): InstanceIdentifier | undefined => {
      if (v.fields) {
        const extension = v.fields.extension?.trim();
        if (!extension) return undefined;
        const root = v.fields.root?.trim();
        return { extension, ...(root ? { root: oid(root) } : {}) };
      }
      return v.text === '' ? undefined : { extension: v.text };
    })
    .filter((i): i is InstanceIdentifier => i !== undefined);
  const distinct = new Map(ids.map((i) => [`${i.extension}\u0000${i.root ?? ''}`, i]));
  if (distinct.size > 1) throw invalidSecurity(`the assertion carries conflicting ${what} values`);
  return [...distinct.values()][0];
}

/** `<decision-ref><id value="…"/><user-selected value="True"/></decision-ref>`, as escaped text. */
function readDecisionRef(raw: string): DecisionRef {
  const id = /<id\s+value\s*=\s*"([^"]*)"/.exec(raw)?.[1];
  const selected = /<user-selected\s+value\s*=\s*"([^"]*)"/.exec(raw)?.[1];
  return {
    raw,
    ...(id ? { id } : {}),
    ...(selected !== undefined ? { userSelected: selected.toLowerCase() === 'true' } : {}),
  };
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Undoes one more level of XML escaping (NHN sends CX as `…^^^&amp;amp;2.16…` in the XML). */
function decodeOnce(value: string): string {
  return value.includes('&') ? value.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e]!) : value;
}

/** OIDs arrive with and without `urn:oid:` and with stray blanks: compare them bare (docs/norway.md). */
function oid(value: string): string {
  return bareOid(value.trim());
}

function urnOid(value: string): string {
  return `urn:oid:${oid(value)}`;
}
