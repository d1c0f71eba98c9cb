/**
 * The patient map of `import`: a CSV file with one line per document file, its name and its
 * patient (an 11-digit Norwegian id number or a CX), as a spreadsheet exports it:
 *
 *   file;patient
 *   epikrise-kari.pdf;13116900216
 *   "notat, ola.pdf";12057900499^^^&2.16.578.1.12.4.1.4.1&ISO
 *
 * The separator is `,` or `;` (Norwegian spreadsheets write `;`), or a tab, told from the first
 * line; values may be double-quoted (`""` for a quote). A first line whose patient column holds no
 * digit is a header. Empty lines and lines starting with # are skipped. The patients are checked
 * when their files are imported, so that one bad line fails one file, not the whole import.
 */
import { readFileSync } from 'node:fs';

export interface PatientMap {
  /** File name → the patient as written. */
  readonly patients: ReadonlyMap<string, string>;
}

/** Reads the map; throws an Error (a line number and what is wrong) for a file that is not one. */
export function readPatientMap(path: string): PatientMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new Error(`cannot read the patient map ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const lines = text.split(/\r?\n/).map((line, i) => ({ line, number: i + 1 })).filter(({ line }) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  const first = lines[0]?.line ?? '';
  const separator = first.includes('\t') ? '\t' : first.includes(';') ? ';' : ',';
  const patients = new Map<string, string>();
  lines.forEach(({ line, number }, index) => {
    const cells = splitCsvLine(line, separator, number);
    const [file = '', patient = ''] = cells.map((c) => c.trim());
    if (index === 0 && !/\d/.test(patient)) return;
    if (file === '' || patient === '') throw new Error(`patient map ${path} line ${number}: expected FILE${separator}PATIENT`);
    const earlier = patients.get(file);
    if (earlier !== undefined && earlier !== patient) throw new Error(`patient map ${path} line ${number}: ${file} is mapped to two patients`);
    patients.set(file, patient);
  });
  return { patients };
}

/** One CSV line's cells (RFC 4180 quoting, within one line). */
function splitCsvLine(line: string, separator: string, number: number): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === separator) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  if (quoted) throw new Error(`line ${number}: a quoted value is not closed`);
  cells.push(cell);
  return cells;
}
