/**
 * The ITI-67 searchset Bundle as JSON, with each DocumentReference's UTF-8 text kept between
 * searches: the same bytes `JSON.stringify(documentReferenceSearchBundle(…))` gives, as pieces
 * that go to the socket one after another (as the SOAP side writes its envelopes) without being
 * joined.
 *
 * Why: mapping a DocumentEntry to a DocumentReference and stringifying it cost several times what
 * the registry's query did (measured: ~7 ms of server CPU for 50 entries against ~1 ms for the
 * whole ITI-18 answer), and most answers hold the same entries again. The registry hands out one
 * frozen object per unchanged entry (registry/query/run.ts `withHome`, the same identity the ebXML
 * writer keys its serialised form on), so the text can be kept per object in a WeakMap: it goes
 * with the object, and a changed entry is a new object. Not kept: entries that are not frozen (a
 * NORS stub made for this answer, another community's entry). An entry's relatesTo comes from its
 * relationships, which do not change without the entry's stored object changing too
 * (registry/relationships.ts); what the result filter left of them for this answer is part of the
 * key all the same, so an answer that may show fewer relationships never gets a text with more.
 *
 * What is kept is the whole Bundle entry (fullUrl, resource, search mode) after the comma that
 * separates it from the one before, one piece per entry (the first entry's a view without the
 * comma), so that an answer is its head, its entries and its tail. Every piece is one write on the
 * response, and a write costs about as much whatever its size (~1.1 µs in the ITI-67 profile): the
 * comma as a piece of its own made an answer of 47 entries 96 writes instead of 49.
 */
import type { Association, DocumentEntry } from '../../../registry/model/metadata.js';
import { resourceIdOf } from '../mapping/common.js';
import { documentEntryToDocumentReference, type DocumentReferenceWriteOptions } from '../mapping/document-reference.js';
import { operationOutcome, type MhdIssue } from '../mapping/issues.js';

interface Kept {
  /** The base URL the text was written for (fullUrl and attachment.url depend on it). */
  readonly base: string;
  /** The entry's relationships it was written with (`relationsKey`). */
  readonly relations: string;
  /** `,{"fullUrl":…,"resource":…,"search":{"mode":"match"}}` as UTF-8 (with the comma before it). */
  readonly json: Buffer;
}

const kept = new WeakMap<DocumentEntry, Kept>();

export interface SearchsetOptions {
  readonly baseUrl: string;
  readonly selfUrl: string;
  readonly warnings: readonly MhdIssue[];
  readonly relations: readonly Association[];
  readonly documentUrl: NonNullable<DocumentReferenceWriteOptions['documentUrl']>;
}

/** What of the answer's relationships an entry's relatesTo is written from: '' for none. */
function relationsKey(own: readonly Association[] | undefined): string {
  if (own === undefined) return '';
  return own.map((a) => `${a.entryUuid} ${a.associationType} ${a.targetUuid}`).join('\n');
}

/** The Bundle entry of one DocumentReference as UTF-8 after a comma, kept for the next answer where it can be. */
function bundleEntryJson(entry: DocumentEntry, base: string, options: SearchsetOptions, own: readonly Association[] | undefined): Buffer {
  const cacheable = Object.isFrozen(entry);
  const relations = relationsKey(own);
  if (cacheable) {
    const hit = kept.get(entry);
    if (hit !== undefined && hit.base === options.baseUrl && hit.relations === relations) return hit.json;
  }
  const write = own === undefined ? { documentUrl: options.documentUrl } : { relations: own, documentUrl: options.documentUrl };
  const fullUrl = JSON.stringify(`${base}/DocumentReference/${resourceIdOf(entry.entryUuid) ?? entry.entryUuid}`);
  const resource = JSON.stringify(documentEntryToDocumentReference(entry, write));
  const json = Buffer.from(`,{"fullUrl":${fullUrl},"resource":${resource},"search":{"mode":"match"}}`, 'utf8');
  if (cacheable) kept.set(entry, { base: options.baseUrl, relations, json });
  return json;
}

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/**
 * The searchset Bundle of these entries as UTF-8 pieces of one JSON text (members in the order
 * the mapping writes them); their concatenation is the Bundle.
 */
export function documentReferenceSearchsetJson(entries: readonly DocumentEntry[], options: SearchsetOptions): Buffer[] {
  const bySource = new Map<string, Association[]>();
  for (const a of options.relations) {
    const list = bySource.get(a.sourceUuid);
    if (list === undefined) bySource.set(a.sourceUuid, [a]);
    else list.push(a);
  }
  const base = options.baseUrl.replace(/\/+$/, '');
  const pieces: Buffer[] = [
    utf8(`{"resourceType":"Bundle","type":"searchset","total":${entries.length},"link":[{"relation":"self","url":${JSON.stringify(options.selfUrl)}}],"entry":[`),
  ];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const json = bundleEntryJson(e, base, options, bySource.get(e.entryUuid));
    pieces.push(i === 0 ? json.subarray(1) : json);
  }
  if (options.warnings.length > 0) {
    pieces.push(utf8(`${entries.length > 0 ? ',' : ''}{"resource":${JSON.stringify(operationOutcome(options.warnings))},"search":{"mode":"outcome"}}`));
  }
  pieces.push(utf8(']}'));
  return pieces;
}
