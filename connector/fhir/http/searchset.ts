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
 * NORS stub made for this answer, another community's entry) and entries with relationships, whose
 * relatesTo depends on the associations of the moment.
 */
import type { Association, DocumentEntry } from '../../../registry/model/metadata.js';
import { resourceIdOf } from '../mapping/common.js';
import { documentEntryToDocumentReference, type DocumentReferenceWriteOptions } from '../mapping/document-reference.js';
import { operationOutcome, type MhdIssue } from '../mapping/issues.js';

interface Kept {
  /** The base URL the text was written for (attachment.url depends on it). */
  readonly base: string;
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

/** The resource's JSON as UTF-8, kept for the next answer where it can be. */
function resourceJson(entry: DocumentEntry, options: SearchsetOptions, related: boolean): Buffer {
  const cacheable = !related && Object.isFrozen(entry);
  if (cacheable) {
    const hit = kept.get(entry);
    if (hit !== undefined && hit.base === options.baseUrl) return hit.json;
  }
  const write = related ? { relations: options.relations, documentUrl: options.documentUrl } : { documentUrl: options.documentUrl };
  const json = Buffer.from(JSON.stringify(documentEntryToDocumentReference(entry, write)), 'utf8');
  if (cacheable) kept.set(entry, { base: options.baseUrl, json });
  return json;
}

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const MATCH_END = utf8(',"search":{"mode":"match"}}');

/**
 * The searchset Bundle of these entries as UTF-8 pieces of one JSON text (members in the order
 * the mapping writes them); their concatenation is the Bundle.
 */
export function documentReferenceSearchsetJson(entries: readonly DocumentEntry[], options: SearchsetOptions): Buffer[] {
  const sources = new Set(options.relations.map((a) => a.sourceUuid));
  const base = options.baseUrl.replace(/\/+$/, '');
  const pieces: Buffer[] = [
    utf8(`{"resourceType":"Bundle","type":"searchset","total":${entries.length},"link":[{"relation":"self","url":${JSON.stringify(options.selfUrl)}}],"entry":[`),
  ];
  entries.forEach((e, i) => {
    const fullUrl = JSON.stringify(`${base}/DocumentReference/${resourceIdOf(e.entryUuid) ?? e.entryUuid}`);
    pieces.push(utf8(`${i > 0 ? ',' : ''}{"fullUrl":${fullUrl},"resource":`), resourceJson(e, options, sources.has(e.entryUuid)), MATCH_END);
  });
  if (options.warnings.length > 0) {
    pieces.push(utf8(`${entries.length > 0 ? ',' : ''}{"resource":${JSON.stringify(operationOutcome(options.warnings))},"search":{"mode":"outcome"}}`));
  }
  pieces.push(utf8(']}'));
  return pieces;
}
