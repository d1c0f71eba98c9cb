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
 * The forms are kept packed, with the record they came with (~0.7 KB a DocumentEntry), until an
 * answer is written; a WeakMap lets each go with its object.
 */
import type { RegistryObject } from '../model/metadata.js';
import { ByteSlab } from '../xml/byte-slab.js';
import { unpackForm } from './embedded/record-codec.mjs';

/** A form as the store gave it: packed with its record (codec 4 or 2), or already unpacked. */
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
  forms.set(object, { text: slab.copy([text]) });
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
 * The UTF-8 text of the object's stored form, or undefined when it has none: a view of a slab,
 * whose bytes nothing changes while it lives (the answer's fragment keeps it without a copy,
 * serialize.ts `storedFragment`). A form that does not inflate (a damaged row) counts as none: the
 * writer then writes the element from the object's fields, which the record holds intact.
 */
export function storedFormText(object: RegistryObject): Buffer | undefined {
  const form = forms.get(object);
  if (form === undefined) return undefined;
  if ('text' in form) return form.text;
  try {
    // Inflated into scratch memory that the next read overwrites: copied out.
    return slab.copy([unpackForm(form.packed)]);
  } catch {
    forms.delete(object);
    return undefined;
  }
}

/** Inflated forms live from the read to the answer's writing (byte-slab.ts). */
const slab = new ByteSlab();
