/**
 * The stored LeafClass forms a store read with its objects (the embedded store's records of codec
 * 2, schema v7): which object has one, kept beside the object rather than in it, so that the model
 * stays a plain description of metadata and only the answer's writer (registry/ebxml/leaf-forms.ts)
 * looks here.
 *
 * A form belongs to one object identity: the object the store made from the row the form was read
 * with. A copy made to change a field (a status, a masked stub) is a new object without a form and
 * is written from its fields, as it must be. The one copy that keeps its object's form is the
 * query's stamping of our homeCommunityId (registry/query/run.ts), which the writer splices into
 * the form (`carryStoredForm`).
 *
 * The forms are kept packed, with the record they came with (~0.7 KB a DocumentEntry), until an
 * answer is written; a WeakMap lets each go with its object.
 */
import type { RegistryObject } from '../model/metadata.js';
import { unpackForm } from './embedded/record-codec.mjs';

/** A form as the store gave it: packed with its record (codec 2), or already inflated. */
type StoredForm = { readonly packed: Uint8Array } | { readonly text: Buffer };

const forms = new WeakMap<RegistryObject, StoredForm>();

/** Notes the packed record and form read with `object` (by the store that made the object). */
export function attachStoredForm(object: RegistryObject, packed: Uint8Array): void {
  forms.set(object, { packed });
}

/**
 * Notes the form's text read with `object`, inflated already (a row read for one answer: its
 * record and form were inflated together). `text` may be scratch memory: it is copied.
 */
export function attachInflatedForm(object: RegistryObject, text: Uint8Array): void {
  forms.set(object, { text: copyToSlab(text) });
}

/**
 * `stamped` is `object` with only its homeCommunityId set (and `object` had none): it gets the form,
 * and the writer gives its element the `home` attribute. A shared (frozen) object gives its form
 * up: the query stamps it once and answers with the stamped copy from then on (run.ts), so the
 * cached object need not hold its packed value. One read for one answer dies with the answer
 * anyway (and a WeakMap deletion per entry measured ~4 % of a cold answer's CPU).
 */
export function carryStoredForm(object: RegistryObject, stamped: RegistryObject): void {
  const form = forms.get(object);
  if (form === undefined) return;
  forms.set(stamped, form);
  if (Object.isFrozen(object)) forms.delete(object);
}

/**
 * The writer made the object's element from its form and keeps that (a shared object's fragment is
 * remembered): the packed value need not live on with the cached object (~0.7 KB each).
 */
export function forgetStoredForm(object: RegistryObject): void {
  forms.delete(object);
}

/**
 * The UTF-8 text of the object's stored form, as a view that the next call may overwrite, or
 * undefined when it has none. A form that does not inflate (a damaged row) counts as none: the
 * writer then writes the element from the object's fields, which the record holds intact.
 */
export function storedFormText(object: RegistryObject): Buffer | undefined {
  const form = forms.get(object);
  if (form === undefined) return undefined;
  if ('text' in form) return form.text;
  try {
    return unpackForm(form.packed);
  } catch {
    forms.delete(object);
    return undefined;
  }
}

/**
 * Inflated forms live from the read to the answer's writing: copied into shared slabs, one view
 * each, rather than a Buffer (and ArrayBuffer) of their own per ~6 KB form (serialize.ts says what
 * that costs). A slab goes when the last object holding a view of it does. 64 KB, as serialize.ts's:
 * below glibc's threshold for giving each allocation pages of its own, whose first touch faults.
 */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

function copyToSlab(bytes: Uint8Array): Buffer {
  if (bytes.length > SLAB_BYTES / 4) return Buffer.from(bytes);
  if (slabUsed + bytes.length > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const start = slabUsed;
  slab.set(bytes, start);
  slabUsed += bytes.length;
  return slab.subarray(start, slabUsed);
}
