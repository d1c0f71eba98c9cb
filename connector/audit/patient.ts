/**
 * Patient ids as the audit trail reads them: the CX split into the parts the stores index and the
 * FHIR AuditEvent names (id and assigning authority), and the check of a patient id a caller of
 * the access log gives (a valid fødselsnummer, D- or H-number, bare or as CX, or a well-formed CX
 * of another authority).
 */
import { bareOid, isOid } from '../../registry/model/hl7.js';
import { checkCxFormat, isValidNorwegianId, NORWEGIAN_ID_OID, type NorwegianIdKind } from '../../registry/patients.js';

/** Patient id parts as indexed: CX.1 and the assigning authority's OID (without urn:oid:). */
export interface PatientKey {
  readonly id: string;
  readonly authority: string | undefined;
}

/** Splits `id^^^&oid&ISO` (or a bare id) into the parts both stores index. */
export function patientKeyOf(cx: string): PatientKey {
  // Read in place with indexOf rather than split into arrays: every audited event is keyed so.
  const id = field(cx, '^', 0) ?? '';
  const universal = field(field(cx, '^', 3) ?? '', '&', 1);
  const oid = universal !== undefined && universal !== '' ? (universal.startsWith('urn:oid:') ? universal.slice(8) : universal) : undefined;
  return { id: id.trim(), authority: oid };
}

/** The n-th field (from 0) of a `separator`-separated text, as `text.split(separator)[n]` gives it. */
function field(text: string, separator: string, n: number): string | undefined {
  let start = 0;
  for (let i = 0; i < n; i++) {
    const next = text.indexOf(separator, start);
    if (next === -1) return undefined;
    start = next + 1;
  }
  const end = text.indexOf(separator, start);
  return end === -1 ? text.slice(start) : text.slice(start, end);
}

const KIND_BY_OID: Readonly<Record<string, NorwegianIdKind>> = {
  [NORWEGIAN_ID_OID.fodselsnummer]: 'F',
  [NORWEGIAN_ID_OID.dNumber]: 'D',
  [NORWEGIAN_ID_OID.hNumber]: 'H',
};

/** Whether an 11-digit id is a valid fødselsnummer, D-number or H-number. */
function isNorwegianId(id: string, synthetic: boolean): boolean {
  return (['F', 'D', 'H'] as const).some((kind) => isValidNorwegianId(id, kind, { synthetic }));
}

/**
 * The patient a caller asks about, or why the id is not one: a bare id must be a valid
 * fødselsnummer, D-number or H-number (check digits and date); a CX must be well formed
 * (`id^^^&oid&ISO`, the OID with or without `urn:oid:`) and, when its authority is one of the
 * Norwegian national ones, carry a valid number of that kind. Synthetic test-register ids
 * (month + 80) only when `synthetic` is set, as the registry decides it.
 */
export function parsePatientId(value: string, options: { readonly synthetic?: boolean } = {}): { key: PatientKey } | { error: string } {
  const synthetic = options.synthetic ?? false;
  const text = value.trim();
  if (!text.includes('^')) {
    if (!/^\d{11}$/.test(text)) return { error: 'patientId must be a fødselsnummer or D-number (11 digits) or a CX (id^^^&oid&ISO)' };
    if (!isNorwegianId(text, synthetic)) return { error: 'patientId is not a valid fødselsnummer or D-number (check digits or date)' };
    return { key: { id: text, authority: undefined } };
  }
  const parts = text.split('^');
  const authority = parts[3]?.split('&') ?? [];
  // Peers write the authority's OID with and without urn:oid:; both denote the same patient.
  if (authority[1] !== undefined) authority[1] = bareOid(authority[1]);
  const cx = [...parts.slice(0, 3), authority.join('&'), ...parts.slice(4)].join('^');
  const malformed = checkCxFormat(cx);
  if (malformed !== undefined) return { error: `patientId is not a valid CX: ${malformed}` };
  const key = patientKeyOf(cx);
  const kind = key.authority !== undefined ? KIND_BY_OID[key.authority] : undefined;
  if (kind !== undefined && !isValidNorwegianId(key.id, kind, { synthetic })) {
    return { error: `patientId is not a valid ${kind === 'F' ? 'fødselsnummer' : kind === 'D' ? 'D-number' : 'H-number'} (check digits or date)` };
  }
  if (key.authority === undefined || !isOid(key.authority)) return { error: 'patientId has no assigning authority OID' };
  return { key };
}
