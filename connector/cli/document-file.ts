/**
 * A file to register: its size and SHA-1 (what the repository will compute, so that the entry
 * says so from the start and `retrieve` can check the bytes against it), and its type.
 *
 * The file is read once here, as a stream, and streamed again when it is sent (the SOAP client
 * reads an attachment's stream in place), so a large document is never held in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { kindOfMimeType, sniffType, SNIFF_BYTES, type DocumentKind } from './mime.js';

export interface DocumentFile {
  readonly path: string;
  /** The file name, without its directory. */
  readonly name: string;
  readonly size: number;
  /** SHA-1 of the bytes, lower-case hex (the XDS hash). */
  readonly sha1: string;
  readonly mimeType: string;
  readonly kind: DocumentKind;
  /** Last modification: the document's creation time unless one is given. */
  readonly modified: Date;
}

/** Reads a file's facts; throws an Error with a one-line message when it cannot be used. */
export async function readDocumentFile(path: string, mimeTypeOverride?: string): Promise<DocumentFile> {
  const name = basename(path);
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!info.isFile()) throw new Error(`${path} is not a file`);
  const type = mimeTypeOverride !== undefined ? { mimeType: mimeTypeOverride, kind: kindOfMimeType(mimeTypeOverride) } : sniffType(await readHead(path), name);
  if (type === undefined) throw new Error(`cannot tell what kind of document ${name} is (not PDF, CDA/XML, text, JPEG or PNG); give --mime-type`);
  const { sha1, size } = await digest(path);
  return { path, name, size, sha1, mimeType: type.mimeType, kind: type.kind, modified: info.mtime };
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** SHA-1 and size of a file, streamed. */
export async function digest(path: string): Promise<{ sha1: string; size: number }> {
  const hash = createHash('sha1');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha1: hash.digest('hex'), size };
}
