/**
 * The stored LeafClass forms a store read with its objects (the embedded store's records of codecs
 * 4 and 2, schema v7): which object has one, kept beside the object rather than in it, so that the model
 * stays a plain description of metadata and only the answer's writer (registry/ebxml/write-objects.ts)
 * looks here.
 *
 * A form belongs to one object identity: the object the store made from the row the form was read
 * with. A copy made to change a field (a status, a masked stub) is a new object without a form and
 * is written from its fields, as it must be. The one copy that keeps its object's form is the
 * query's stamping of our homeCommunityId (registry/query/run.ts), which the writer splices into
 * the form (`carryStoredForm`).
 *
 * The forms are kept packed, with the record they came with (~0.7 KB a DocumentEntry, the value the
 * store read), until an answer is written; a WeakMap lets each go with its object. They are inflated
 * only then: a shared (cached) object's once, into a fragment the writer remembers
 * (`storedFormText`), an object read for one answer into that answer's own memory
 * (`inflatedStoredForm`, serialize.ts `deferredFragment`). Kept inflated from the read to the answer,
 * ~6 KB per entry outside the heap, the forms of cold answers set the pace of the node's collections
 * (BENCHMARKS.md, issue 19, tenth session).
 */
import type { RegistryObject } from '../model/metadata.js';
import { ByteSlab } from '../xml/byte-slab.js';
import { unpackForm } from './embedded/record-codec.mjs';

/** Each object's packed record and form (codec 4 or 2), as the store read them. */
const forms = new WeakMap<RegistryObject, Uint8Array>();

/** Notes the packed record and form read with `object` (by the store that made the object). */
export function attachStoredForm(object: RegistryObject, packed: Uint8Array): void {
  forms.set(object, packed);
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

/** The packed value holding the object's stored form, or undefined when it has none. */
export function packedStoredForm(object: RegistryObject): Uint8Array | undefined {
  return forms.get(object);
}

/**
 * The form's UTF-8 text in a packed value (`packedStoredForm`), as a view of scratch memory that
 * the next call overwrites, or undefined when it does not inflate (a damaged row: the writer then
 * writes the element from the object's fields, which the record holds intact).
 */
export function inflatedStoredForm(packed: Uint8Array): Buffer | undefined {
  try {
    return unpackForm(packed);
  } catch {
    return undefined;
  }
}

/**
 * The writer made the object's element from its form and keeps that (a shared object's fragment is
 * remembered): the packed value need not live on with the cached object (~0.7 KB each).
 */
export function forgetStoredForm(object: RegistryObject): void {
  forms.delete(object);
}

/**
 * The UTF-8 text of the object's stored form, or undefined when it has none (or it does not
 * inflate): a view of a slab, whose bytes nothing changes while it lives (the fragment made of it
 * keeps it without a copy, serialize.ts `storedFragment`).
 */
export function storedFormText(object: RegistryObject): Buffer | undefined {
  const packed = forms.get(object);
  if (packed === undefined) return undefined;
  const text = inflatedStoredForm(packed);
  if (text === undefined) {
    forms.delete(object);
    return undefined;
  }
  // Inflated into scratch memory that the next read overwrites: copied out.
  return slab.copy([text]);
}

/** Where a shared object's form is copied to, for the fragment the writer remembers (byte-slab.ts). */
const slab = new ByteSlab();
