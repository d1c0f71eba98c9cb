/**
 * What kind of document a file is, from its first bytes and, where they do not tell, its name.
 *
 * The bytes win over the name for the formats that announce themselves (PDF, PNG, JPEG, XML), so
 * a mislabelled file is registered as what it is: the mime type is what a consumer's viewer is
 * chosen by. A file that is none of these and not readable text is refused rather than guessed:
 * the operator then names its type with --mime-type.
 */
import { extname } from 'node:path';

export type DocumentKind = 'pdf' | 'cda' | 'xml' | 'text' | 'jpeg' | 'png' | 'other';

export interface SniffedType {
  readonly mimeType: string;
  readonly kind: DocumentKind;
}

/** How many leading bytes `sniffType` wants (enough to find a CDA root after a long XML prolog). */
export const SNIFF_BYTES = 4096;

const BY_EXTENSION: Readonly<Record<string, SniffedType>> = {
  '.pdf': { mimeType: 'application/pdf', kind: 'pdf' },
  '.xml': { mimeType: 'text/xml', kind: 'xml' },
  '.txt': { mimeType: 'text/plain', kind: 'text' },
  '.jpg': { mimeType: 'image/jpeg', kind: 'jpeg' },
  '.jpeg': { mimeType: 'image/jpeg', kind: 'jpeg' },
  '.png': { mimeType: 'image/png', kind: 'png' },
};

/** The kind a mime type given with --mime-type stands for (its format code follows from it). */
export function kindOfMimeType(mimeType: string): DocumentKind {
  const m = mimeType.toLowerCase();
  if (m === 'application/pdf') return 'pdf';
  if (m === 'image/jpeg') return 'jpeg';
  if (m === 'image/png') return 'png';
  if (m === 'text/plain') return 'text';
  if (m === 'text/xml' || m === 'application/xml') return 'xml';
  return 'other';
}

/** The type of a file from its first bytes (up to SNIFF_BYTES) and its name; undefined when neither tells. */
export function sniffType(head: Buffer, fileName: string): SniffedType | undefined {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return { mimeType: 'application/pdf', kind: 'pdf' };
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { mimeType: 'image/png', kind: 'png' };
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { mimeType: 'image/jpeg', kind: 'jpeg' };
  const text = asText(head);
  if (text !== undefined) {
    const start = text.replace(/^\uFEFF/, '').trimStart();
    if (start.startsWith('<')) {
      // CDA: the ClinicalDocument root (any prefix) in the HL7 v3 namespace. XDS registers CDA as text/xml.
      if (/<([A-Za-z_][\w.-]*:)?ClinicalDocument[\s>]/.test(start) && start.includes('urn:hl7-org:v3')) return { mimeType: 'text/xml', kind: 'cda' };
      if (start.startsWith('<?xml') || /^<[A-Za-z_]/.test(start)) return { mimeType: 'text/xml', kind: 'xml' };
    }
  }
  const byName = BY_EXTENSION[extname(fileName).toLowerCase()];
  if (byName !== undefined) return byName;
  if (text !== undefined && text.length > 0) return { mimeType: 'text/plain', kind: 'text' };
  return undefined;
}

/** The bytes as text when they are UTF-8 without control characters (other than tab, CR, LF, FF). */
function asText(head: Buffer): string | undefined {
  let text: string;
  try {
    // stream: true lets a character cut at the end of the sample pass.
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

/** The file extension a retrieved document of this mime type is written with. */
export function extensionOf(mimeType: string): string {
  switch (kindOfMimeType(mimeType.split(';')[0]!.trim())) {
    case 'pdf':
      return '.pdf';
    case 'jpeg':
      return '.jpg';
    case 'png':
      return '.png';
    case 'text':
      return '.txt';
    case 'xml':
    case 'cda':
      return '.xml';
    default:
      return '.bin';
  }
}
