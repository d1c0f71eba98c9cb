/**
 * The patient as an operator types it: a bare 11-digit Norwegian id number, or a full CX.
 *
 * A bare number becomes the CX of its kind, told apart by its digits (docs/norway.md): a D-number
 * (temporary number) has its first digit raised by 4, an H-number (help number) its month (third
 * digit) raised by 4; anything else is a fødselsnummer. The check digits are NOT checked here: the
 * registry decides which patients it knows (XDSUnknownPatientId), and the CLI must not disagree
 * with it, e.g. about the synthetic test persons a test node accepts.
 */
import { checkCxFormat, NORWEGIAN_ID_OID } from '../../registry/patients.js';
import { UsageError } from './errors.js';

/** The CX of a bare id number or a CX; throws an Error whose message says what is wrong with the value. */
export function patientCx(value: string): string {
  const v = value.trim();
  if (/^\d{11}$/.test(v)) return `${v}^^^&${authorityOf(v)}&ISO`;
  if (!v.includes('^')) {
    throw new Error(`"${value}" is neither an 11-digit fødselsnummer / D-number nor a CX such as 13116900216^^^&${NORWEGIAN_ID_OID.fodselsnummer}&ISO`);
  }
  const problem = checkCxFormat(v);
  if (problem !== undefined) throw new Error(problem);
  return v;
}

/** The patient of a --patient option; a bad one is a usage error naming the option. */
export function patientOption(value: string): string {
  try {
    return patientCx(value);
  } catch (e) {
    throw new UsageError(`--patient ${(e as Error).message}`);
  }
}

function authorityOf(id: string): string {
  const first = Number(id[0]);
  if (first >= 4 && first <= 7) return NORWEGIAN_ID_OID.dNumber;
  const monthTens = Number(id[2]);
  if (monthTens >= 4 && monthTens <= 7) return NORWEGIAN_ID_OID.hNumber;
  return NORWEGIAN_ID_OID.fodselsnummer;
}
