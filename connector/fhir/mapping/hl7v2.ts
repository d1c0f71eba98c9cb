/**
 * XDS value types ↔ FHIR data types: HL7 v2 DTM ↔ dateTime/instant, CX ↔ Identifier, XCN ↔
 * Practitioner, XON ↔ Organization, XTN ↔ ContactPoint, sourcePatientInfo PID lines ↔ Patient,
 * XDS Code ↔ Coding, uniqueId ↔ Identifier, LocalizedString ↔ string with language.
 *
 * The model keeps HL7 v2 values as the exact submitted strings (registry/model/metadata.ts), and
 * FHIR splits them into structured elements. Each `…To…` function writes the structured form; when
 * reading that form back would not give the same string (a non-canonical HL7 value: trailing
 * separators, components FHIR has no element for, an hour-precision DTM), the exact value rides
 * along in the node's `xds-original` extension, which the reverse function prefers. So the model
 * survives model → FHIR → model unchanged, while a FHIR consumer still sees ordinary structure.
 *
 * Times: XDS DTMs are UTC without a zone (ITI TF-3 4.2.3.1.7); FHIR dateTimes carry one. Reading
 * FHIR converts to UTC and drops fractions of a second (XDS has none); a date stays a date, and
 * every DTM precision FHIR can express (year, month, day, second) is kept.
 */
import { isOid, isValidDtm } from '../../../registry/model/hl7.js';
import type { Code, LocalizedText } from '../../../registry/model/metadata.js';
import {
  LANGUAGE_EXTENSION,
  NODE_EXTENSION,
  URI_SYSTEM,
  type Address,
  type CodeableConcept,
  type Coding,
  type ContactPoint,
  type Element,
  type Extension,
  type HumanName,
  type Identifier,
  type Organization,
  type Patient,
  type Practitioner,
} from './fhir.js';
import { extensionsOf, extensionStrings, get, getArr, getStr, getStrings, str, type Json } from './read.js';

// --- small helpers ------------------------------------------------------------------------------

/** The object without its undefined members: the model is compared with deep equality, and `{a: undefined}` is not `{}`. */
export function compact<T extends object>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out as T;
}

export function originalExtension(value: string): Extension {
  return { url: NODE_EXTENSION.original, valueString: value };
}

/** The exact XDS value an element carries in `xds-original`, if any (the first one). */
export function originalOf(element: Json): string | undefined {
  return extensionStrings(element, NODE_EXTENSION.original)[0];
}

/** The element, plus `xds-original` when reading it back would not give `original`. */
export function withOriginal<T extends Element>(element: T, original: string, reverse: (e: T) => string | undefined): T {
  if (reverse(element) === original) return element;
  return { ...element, extension: [...(element.extension ?? []), originalExtension(original)] };
}

/** A primitive's `_name` element holding only extensions, or undefined when there are none. */
function primitiveElement(extensions: readonly Extension[]): Element | undefined {
  return extensions.length === 0 ? undefined : { extension: [...extensions] };
}

// --- HL7 v2 escapes (HL7 v2.5 2.7.4): values that contain separators must be escaped ------------

const ESCAPES: Readonly<Record<string, string>> = { E: '\\', F: '|', S: '^', T: '&', R: '~' };

export function hl7Escape(value: string): string {
  return value.replace(/[\\|^&~]/g, (c) => `\\${{ '\\': 'E', '|': 'F', '^': 'S', '&': 'T', '~': 'R' }[c]}\\`);
}

export function hl7Unescape(value: string): string {
  return value.replace(/\\([EFSTR])\\/g, (_, c: string) => ESCAPES[c] ?? c);
}

/** Components of a composite (split on `^`), unescaped later by the caller where they are text. */
function components(value: string): string[] {
  return value.split('^');
}

/** Components joined, trailing empty ones dropped (the canonical HL7 form). */
function joinComponents(parts: readonly string[]): string {
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  return parts.slice(0, end).join('^');
}

// --- OIDs and code systems ----------------------------------------------------------------------

/** The OID of a FHIR system: `urn:oid:X` (any case) or a bare OID; undefined otherwise. */
export function oidOfSystem(system: string | undefined): string | undefined {
  if (system === undefined) return undefined;
  const bare = /^urn:oid:/i.test(system) ? system.slice(8) : system;
  return isOid(bare) ? bare : undefined;
}

/**
 * Code systems that FHIR names by a canonical URL rather than `urn:oid:` (FHIR R4
 * terminologies-systems.html, IHE MHD formatCode). XDS codingSchemes are OIDs.
 */
const KNOWN_SYSTEMS: readonly (readonly [oid: string, url: string])[] = [
  ['2.16.840.1.113883.5.25', 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality'],
  ['2.16.840.1.113883.5.4', 'http://terminology.hl7.org/CodeSystem/v3-ActCode'],
  ['2.16.840.1.113883.6.1', 'http://loinc.org'],
  ['2.16.840.1.113883.6.96', 'http://snomed.info/sct'],
  ['1.3.6.1.4.1.19376.1.2.3', 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode'],
];
const URL_BY_OID = new Map(KNOWN_SYSTEMS.map(([oid, url]) => [oid, url]));
const OID_BY_URL = new Map(KNOWN_SYSTEMS.map(([oid, url]) => [url, oid]));

/** XDS codingScheme → FHIR system: a known URL, `urn:oid:` for other OIDs, anything else as it is. */
export function schemeToSystem(scheme: string): string {
  return URL_BY_OID.get(scheme) ?? (isOid(scheme) ? `urn:oid:${scheme}` : scheme);
}

/** FHIR system → XDS codingScheme: the OID of a known URL or of `urn:oid:`, anything else as it is. */
export function systemToScheme(system: string): string {
  return OID_BY_URL.get(system) ?? oidOfSystem(system) ?? system;
}

// --- LocalizedString ----------------------------------------------------------------------------

/** The `_name` element of a text primitive: its language (HL7's language extension) and charset. */
export function textElement(text: LocalizedText): Element | undefined {
  const extensions: Extension[] = [];
  if (text.lang !== undefined) extensions.push({ url: LANGUAGE_EXTENSION, valueCode: text.lang });
  if (text.charset !== undefined) extensions.push({ url: NODE_EXTENSION.charset, valueString: text.charset });
  return primitiveElement(extensions);
}

export function localizedText(value: Json, element: Json): LocalizedText | undefined {
  const v = str(value);
  if (v === undefined) return undefined;
  const lang = str(extensionsOf(element, LANGUAGE_EXTENSION)[0]?.['valueCode']);
  const charset = extensionStrings(element, NODE_EXTENSION.charset)[0];
  return compact({ value: v, lang, charset });
}

// --- Codes --------------------------------------------------------------------------------------

export function codeToCoding(code: Code): Coding {
  const system = code.scheme === undefined ? undefined : schemeToSystem(code.scheme);
  return compact({
    system,
    _system: system !== undefined && systemToScheme(system) !== code.scheme ? { extension: [originalExtension(code.scheme!)] } : undefined,
    code: code.code,
    display: code.displayName?.value,
    _display: code.displayName === undefined ? undefined : textElement(code.displayName),
  });
}

export function codingToCode(coding: Json): Code | undefined {
  const code = getStr(coding, 'code');
  if (code === undefined) return undefined;
  const system = getStr(coding, 'system');
  const scheme = originalOf(get(coding, '_system')) ?? (system === undefined ? undefined : systemToScheme(system));
  const displayName = localizedText(get(coding, 'display'), get(coding, '_display'));
  return compact({ code, scheme, displayName });
}

export function codeToConcept(code: Code): CodeableConcept {
  return { coding: [codeToCoding(code)] };
}

/** The first coding of a CodeableConcept that has a code (XDS codes are single codings). */
export function conceptToCode(concept: Json): Code | undefined {
  for (const coding of getArr(concept, 'coding')) {
    const code = codingToCode(coding);
    if (code !== undefined) return code;
  }
  return undefined;
}

/**
 * authorRole / authorSpecialty: free strings, or coded as `code^^^&oid&ISO` (ITI TF-3 4.2.3.1.4).
 * A coded value becomes a coding; any other string the concept's text.
 */
export function codedStringToConcept(value: string): CodeableConcept {
  const m = /^([^^&]+)\^\^\^&([^&^]+)&ISO$/.exec(value);
  const concept: CodeableConcept = m && isOid(m[2]!) ? { coding: [{ system: schemeToSystem(m[2]!), code: hl7Unescape(m[1]!) }] } : { text: value };
  return withOriginal(concept, value, conceptToCodedString);
}

export function conceptToCodedString(concept: Json): string | undefined {
  const original = originalOf(concept);
  if (original !== undefined) return original;
  const text = getStr(concept, 'text');
  if (text !== undefined) return text;
  const coding = getArr(concept, 'coding').find((c) => getStr(c, 'code') !== undefined);
  if (coding === undefined) return undefined;
  const code = getStr(coding, 'code')!;
  const system = getStr(coding, 'system');
  const scheme = system === undefined ? undefined : systemToScheme(system);
  return scheme !== undefined && isOid(scheme) ? `${hl7Escape(code)}^^^&${scheme}&ISO` : code;
}

// --- DTM ↔ dateTime / instant -------------------------------------------------------------------

const DTM = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?$/;
/** FHIR date / dateTime / instant, leniently: seconds and zone may be missing (then UTC). */
const FHIR_DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The FHIR dateTime of a DTM, or undefined when it is no valid DTM. Hour and minute precision have
 * no FHIR form (a time needs seconds): they are written to the second, and `dtmPrimitive` keeps the
 * DTM itself beside it.
 */
export function dtmToDateTime(dtm: string): string | undefined {
  const m = isValidDtm(dtm) ? DTM.exec(dtm) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  if (mo === undefined) return y;
  if (d === undefined) return `${y}-${mo}`;
  if (h === undefined) return `${y}-${mo}-${d}`;
  return `${y}-${mo}-${d}T${h}:${mi ?? '00'}:${s ?? '00'}Z`;
}

/** A FHIR instant needs a full time: only a DTM to the second has one. */
export function dtmToInstant(dtm: string): string | undefined {
  return dtm.length === 14 ? dtmToDateTime(dtm) : undefined;
}

/** The XDS DTM (UTC) of a FHIR date, dateTime or instant, or undefined when it is none. */
export function dateTimeToDtm(value: string): string | undefined {
  const m = FHIR_DATE_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, zone] = m;
  if (h === undefined) {
    const dtm = `${y}${mo ?? ''}${d ?? ''}`;
    return isValidDtm(dtm) ? dtm : undefined;
  }
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), s === undefined ? 0 : Number(s));
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  const t = new Date(ms);
  if (Number.isNaN(t.getTime()) || t.getUTCFullYear() < 1 || t.getUTCFullYear() > 9999) return undefined;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const dtm = `${p(t.getUTCFullYear(), 4)}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}`;
  return isValidDtm(dtm) ? dtm : undefined;
}

/** A primitive's value and its `_name` element. */
export interface Primitive<T> {
  readonly value?: T;
  readonly element?: Element;
}

/** A DTM as a FHIR dateTime (or instant), with `xds-original` when the FHIR value would not read back to it. */
export function dtmPrimitive(dtm: string, kind: 'dateTime' | 'instant' = 'dateTime'): Primitive<string> {
  const value = kind === 'instant' ? dtmToInstant(dtm) : dtmToDateTime(dtm);
  const exact = value !== undefined && dateTimeToDtm(value) === dtm;
  return compact({ value, element: exact ? undefined : primitiveElement([originalExtension(dtm)]) });
}

/**
 * The DTM of a dateTime primitive: `xds-original` first, else the converted value; a value that is
 * no FHIR dateTime is kept as it is, so that the registry's DTM rule names it.
 */
export function primitiveDtm(value: Json, element: Json): string | undefined {
  const original = originalOf(element);
  if (original !== undefined) return original;
  const v = str(value);
  return v === undefined ? undefined : (dateTimeToDtm(v) ?? v);
}

// --- uniqueId ↔ Identifier (ITI TF-2 Appendix Z.9.1) --------------------------------------------

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * An XDS uniqueId as a FHIR Identifier: an OID as `urn:oid:`, a UUID as `urn:uuid:` (both under
 * system urn:ietf:rfc:3986), an `OID^extension` as system `urn:oid:OID` with the extension as value.
 */
export function uniqueIdToIdentifier(uniqueId: string): Identifier {
  const caret = uniqueId.indexOf('^');
  let identifier: Identifier;
  if (isOid(uniqueId)) identifier = { use: 'usual', system: URI_SYSTEM, value: `urn:oid:${uniqueId}` };
  else if (UUID.test(uniqueId)) identifier = { use: 'usual', system: URI_SYSTEM, value: `urn:uuid:${uniqueId}` };
  else if (caret > 0 && isOid(uniqueId.slice(0, caret)) && uniqueId.length > caret + 1) {
    identifier = { use: 'usual', system: `urn:oid:${uniqueId.slice(0, caret)}`, value: uniqueId.slice(caret + 1) };
  } else identifier = { use: 'usual', system: URI_SYSTEM, value: uniqueId };
  return withOriginal(identifier, uniqueId, identifierToUniqueId);
}

export function identifierToUniqueId(identifier: Json): string | undefined {
  const original = originalOf(identifier);
  if (original !== undefined) return original;
  const value = getStr(identifier, 'value');
  if (value === undefined) return undefined;
  const system = getStr(identifier, 'system');
  const root = system === undefined || system === URI_SYSTEM ? undefined : oidOfSystem(system);
  if (root !== undefined) return `${root}^${value}`;
  if (/^urn:(oid|uuid):/i.test(value)) return value.slice(value.indexOf(':', 4) + 1);
  return value;
}

// --- CX ↔ Identifier ----------------------------------------------------------------------------

function cxToIdentifierPlain(cx: string): Identifier {
  const c = components(cx);
  const id = hl7Unescape(c[0] ?? '');
  const oid = (c[3] ?? '').split('&')[1];
  const identifier: Identifier = {};
  if (oid !== undefined && isOid(oid)) identifier.system = `urn:oid:${oid}`;
  if (id !== '') identifier.value = id;
  return identifier;
}

/** A CX (`id^^^&oid&ISO`) as system `urn:oid:<oid>` and value `id`. */
export function cxToIdentifier(cx: string): Identifier {
  return withOriginal(cxToIdentifierPlain(cx), cx, identifierToCx);
}

/** The CX of an Identifier whose system is an OID; undefined without one (a CX needs its assigning authority). */
export function identifierToCx(identifier: Json): string | undefined {
  const original = originalOf(identifier);
  if (original !== undefined) return original;
  const value = getStr(identifier, 'value');
  const oid = oidOfSystem(getStr(identifier, 'system'));
  if (value === undefined || value === '' || oid === undefined) return undefined;
  return `${hl7Escape(value)}^^^&${oid}&ISO`;
}

/**
 * A CXi (referenceIdList, ITI TF-3 4.2.3.1.7): `id^^^&oid&ISO^type[^assigningFacility]`. The type
 * code (e.g. urn:ihe:iti:xds:2013:accession) goes to Identifier.type.
 */
export function cxiToIdentifier(cxi: string): Identifier {
  const c = components(cxi);
  const identifier = cxToIdentifierPlain(cxi);
  const type = c[4];
  if (type !== undefined && type !== '') identifier.type = { coding: [{ system: URI_SYSTEM, code: type }] };
  return withOriginal(identifier, cxi, identifierToCxi);
}

export function identifierToCxi(identifier: Json): string | undefined {
  const original = originalOf(identifier);
  if (original !== undefined) return original;
  const cx = identifierToCx(identifier);
  if (cx === undefined) return undefined;
  const type = getStr(getArr(get(identifier, 'type'), 'coding')[0], 'code');
  return type === undefined ? cx : `${cx}^${type}`;
}

// --- XCN ↔ Practitioner -------------------------------------------------------------------------

function assigningAuthorityOid(hd: string | undefined): string | undefined {
  const oid = (hd ?? '').split('&')[1];
  return oid !== undefined && isOid(oid) ? oid : undefined;
}

function identifierFor(value: string, oid: string | undefined): Identifier {
  return oid === undefined ? { value } : { system: `urn:oid:${oid}`, value };
}

/** The first Identifier with a value, preferring one whose system is an OID; read as [value, oid]. */
function bestIdentifier(resource: Json): [string, string | undefined] | undefined {
  const ids = getArr(resource, 'identifier').filter((i) => (getStr(i, 'value') ?? '') !== '');
  const withOid = ids.find((i) => oidOfSystem(getStr(i, 'system')) !== undefined);
  const chosen = withOid ?? ids[0];
  return chosen === undefined ? undefined : [getStr(chosen, 'value')!, oidOfSystem(getStr(chosen, 'system'))];
}

/** An XCN person (`id^family^given^middle^suffix^prefix^^^&oid&ISO`) as a Practitioner. */
export function xcnToPractitioner(xcn: string, id: string): Practitioner {
  const c = components(xcn);
  const text = (i: number) => hl7Unescape(c[i] ?? '');
  const practitioner: Practitioner = { resourceType: 'Practitioner', id };
  if (text(0) !== '') practitioner.identifier = [identifierFor(text(0), assigningAuthorityOid(c[8]))];
  const name = humanName(text(1), [text(2), text(3)], text(4), text(5));
  if (name) practitioner.name = [name];
  return withOriginal(practitioner, xcn, practitionerToXcn);
}

function humanName(family: string, given: readonly string[], suffix: string, prefix: string): HumanName | undefined {
  const name: HumanName = {};
  if (family !== '') name.family = family;
  const g = given.filter((x) => x !== '');
  if (g.length > 0) name.given = g;
  if (suffix !== '') name.suffix = [suffix];
  if (prefix !== '') name.prefix = [prefix];
  return Object.keys(name).length === 0 ? undefined : name;
}

/** XPN-like components of a HumanName: family, given, further given names, suffix, prefix. */
function nameParts(name: Json): [string, string, string, string, string] {
  const given = getStrings(name, 'given');
  return [getStr(name, 'family') ?? '', given[0] ?? '', given.slice(1).join(' '), getStrings(name, 'suffix').join(' '), getStrings(name, 'prefix').join(' ')];
}

export function practitionerToXcn(practitioner: Json): string | undefined {
  const original = originalOf(practitioner);
  if (original !== undefined) return original;
  const id = bestIdentifier(practitioner);
  const [family, given, middle, suffix, prefix] = nameParts(getArr(practitioner, 'name')[0]);
  const xcn = joinComponents([
    hl7Escape(id?.[0] ?? ''),
    hl7Escape(family),
    hl7Escape(given),
    hl7Escape(middle),
    hl7Escape(suffix),
    hl7Escape(prefix),
    '',
    '',
    id?.[1] === undefined ? '' : `&${id[1]}&ISO`,
  ]);
  return xcn === '' ? undefined : xcn;
}

// --- XON ↔ Organization -------------------------------------------------------------------------

/** An XON (`name^^^^^&oid&ISO^^^^id`, or `name^^^^^^^^^oid`, or a name) as an Organization. */
export function xonToOrganization(xon: string, id: string): Organization {
  const c = components(xon);
  const organization: Organization = { resourceType: 'Organization', id };
  const name = hl7Unescape(c[0] ?? '');
  if (name !== '') organization.name = name;
  const orgId = hl7Unescape(c[9] ?? '');
  if (orgId !== '') {
    const oid = assigningAuthorityOid(c[5]);
    organization.identifier = [
      oid !== undefined ? { system: `urn:oid:${oid}`, value: orgId } : isOid(orgId) ? { system: URI_SYSTEM, value: `urn:oid:${orgId}` } : { value: orgId },
    ];
  }
  return withOriginal(organization, xon, organizationToXon);
}

export function organizationToXon(organization: Json): string | undefined {
  const original = originalOf(organization);
  if (original !== undefined) return original;
  const name = hl7Escape(getStr(organization, 'name') ?? '');
  const identifier = getArr(organization, 'identifier').find((i) => (getStr(i, 'value') ?? '') !== '');
  if (identifier === undefined) return name === '' ? undefined : name;
  const value = getStr(identifier, 'value')!;
  const system = getStr(identifier, 'system');
  if (system === URI_SYSTEM && /^urn:oid:/i.test(value) && isOid(value.slice(8))) return `${name}^^^^^^^^^${value.slice(8)}`;
  const oid = system === URI_SYSTEM ? undefined : oidOfSystem(system);
  return oid === undefined ? `${name}^^^^^^^^^${hl7Escape(value)}` : `${name}^^^^^&${oid}&ISO^^^^${hl7Escape(value)}`;
}

// --- XTN ↔ ContactPoint -------------------------------------------------------------------------

const USE_BY_CODE: Readonly<Record<string, ContactPoint['use']>> = { PRN: 'home', WPN: 'work', PRS: 'mobile' };
const CODE_BY_USE: Readonly<Record<string, string>> = { home: 'PRN', work: 'WPN', mobile: 'PRS' };

/** An XTN: e-mail in component 4 (`^^Internet^a@b`), a number in component 12 (`^^PH^^^^^^^^^+47…`). */
export function xtnToContactPoint(xtn: string): ContactPoint {
  const c = components(xtn);
  const text = (i: number) => hl7Unescape(c[i] ?? '');
  const cp: ContactPoint = {};
  if (text(3) !== '') Object.assign(cp, { system: 'email', value: text(3) });
  else if (text(11) !== '') Object.assign(cp, { system: text(2) === 'FX' ? 'fax' : 'phone', value: text(11) });
  else if (text(0) !== '') Object.assign(cp, { system: 'phone', value: text(0) });
  const use = USE_BY_CODE[text(1)];
  if (use !== undefined) cp.use = use;
  return withOriginal(cp, xtn, contactPointToXtn);
}

export function contactPointToXtn(cp: Json): string | undefined {
  const original = originalOf(cp);
  if (original !== undefined) return original;
  const value = getStr(cp, 'value');
  if (value === undefined) return undefined;
  const use = CODE_BY_USE[getStr(cp, 'use') ?? ''] ?? '';
  const system = getStr(cp, 'system');
  if (system === 'email' || system === 'url') return `^${use}^Internet^${hl7Escape(value)}`;
  return `^${use}^${system === 'fax' ? 'FX' : 'PH'}^^^^^^^^^${hl7Escape(value)}`;
}

// --- sourcePatientInfo (PID-n|value lines) ↔ Patient ---------------------------------------------

const GENDER_BY_CODE: Readonly<Record<string, Patient['gender']>> = { M: 'male', F: 'female', O: 'other', U: 'unknown', A: 'other', N: 'unknown' };
const CODE_BY_GENDER: Readonly<Record<string, string>> = { male: 'M', female: 'F', other: 'O', unknown: 'U' };

/**
 * The PID lines as a Patient: PID-3 identifiers, PID-5 names, PID-7 birth date, PID-8 gender,
 * PID-11 addresses. Lines of other fields, or lines whose structure would not read back the same,
 * make the whole list ride along in `xds-original` (order matters to the model).
 */
export function pidLinesToPatient(lines: readonly string[], id: string): Patient {
  const patient: Patient = { resourceType: 'Patient', id };
  for (const line of lines) {
    const bar = line.indexOf('|');
    const field = bar < 0 ? '' : line.slice(0, bar);
    const value = bar < 0 ? '' : line.slice(bar + 1);
    switch (field) {
      case 'PID-3':
        for (const cx of value.split('~')) {
          const identifier = cxToIdentifierPlain(cx);
          if (Object.keys(identifier).length > 0) (patient.identifier ??= []).push(identifier);
        }
        break;
      case 'PID-5':
        for (const xpn of value.split('~')) {
          const c = components(xpn).map(hl7Unescape);
          const name = humanName(c[0] ?? '', [c[1] ?? '', c[2] ?? ''], c[3] ?? '', c[4] ?? '');
          if (name) (patient.name ??= []).push(name);
        }
        break;
      case 'PID-7': {
        const date = dtmToDateTime(value.slice(0, 8));
        if (date !== undefined) patient.birthDate = date;
        break;
      }
      case 'PID-8': {
        const gender = GENDER_BY_CODE[value];
        if (gender !== undefined) patient.gender = gender;
        break;
      }
      case 'PID-11':
        for (const xad of value.split('~')) {
          const c = components(xad).map(hl7Unescape);
          const address: Address = {};
          const line = [c[0] ?? '', c[1] ?? ''].filter((x) => x !== '');
          if (line.length > 0) address.line = line;
          if ((c[2] ?? '') !== '') address.city = c[2]!;
          if ((c[3] ?? '') !== '') address.state = c[3]!;
          if ((c[4] ?? '') !== '') address.postalCode = c[4]!;
          if ((c[5] ?? '') !== '') address.country = c[5]!;
          if (Object.keys(address).length > 0) (patient.address ??= []).push(address);
        }
        break;
      default:
        break;
    }
  }
  const structured = patientToPidLines(patient);
  if (structured.length === lines.length && structured.every((l, i) => l === lines[i])) return patient;
  return { ...patient, extension: lines.map(originalExtension) };
}

/** The PID lines of a Patient: `xds-original` when present, else PID-3, -5, -7, -8, -11 from its elements. */
export function patientToPidLines(patient: Json): string[] {
  const original = extensionStrings(patient, NODE_EXTENSION.original);
  if (original.length > 0) return original;
  const lines: string[] = [];
  for (const identifier of getArr(patient, 'identifier')) {
    const cx = identifierToCx(identifier);
    if (cx !== undefined) lines.push(`PID-3|${cx}`);
  }
  for (const name of getArr(patient, 'name')) {
    const xpn = joinComponents(nameParts(name).map(hl7Escape));
    if (xpn !== '') lines.push(`PID-5|${xpn}`);
  }
  const birthDate = getStr(patient, 'birthDate');
  const dob = birthDate === undefined ? undefined : dateTimeToDtm(birthDate);
  if (dob !== undefined) lines.push(`PID-7|${dob}`);
  const gender = CODE_BY_GENDER[getStr(patient, 'gender') ?? ''];
  if (gender !== undefined) lines.push(`PID-8|${gender}`);
  for (const address of getArr(patient, 'address')) {
    const l = getStrings(address, 'line');
    const xad = joinComponents(
      [l[0] ?? '', l.slice(1).join(' '), getStr(address, 'city') ?? '', getStr(address, 'state') ?? '', getStr(address, 'postalCode') ?? '', getStr(address, 'country') ?? ''].map(hl7Escape),
    );
    if (xad !== '') lines.push(`PID-11|${xad}`);
  }
  return lines;
}
