/**
 * The entries of an ITI-65 Provide Document Bundle, indexed and sorted by what they are, and the
 * resolution of references between them (FHIR R4 bundle.html#references): by fullUrl (usually
 * `urn:uuid:…`), or `Type/id` against the entries' fullUrls and resource ids. Shared by the MHD
 * validation rules and the mapping, so both see the same Bundle the same way.
 */
import { listKind } from './list.js';
import { get, getArr, getStr, isObject, str, type Json } from './read.js';

export interface IndexedEntry {
  readonly index: number;
  /** `Bundle.entry[i]`. */
  readonly location: string;
  readonly fullUrl?: string;
  readonly resource?: Record<string, unknown>;
  readonly resourceType?: string;
  /** request.method in upper case; entries without a request count as POST (a create). */
  readonly method: string;
}

/** An entry that creates its resource (POST), as opposed to one that updates an existing one (PUT, PATCH). */
export function isCreate(entry: IndexedEntry): boolean {
  return entry.method === 'POST';
}

export class BundleIndex {
  readonly entries: readonly IndexedEntry[];
  private readonly byFullUrl = new Map<string, IndexedEntry>();
  private readonly byResource = new Map<Record<string, unknown>, IndexedEntry>();

  constructor(bundle: Json) {
    this.entries = getArr(bundle, 'entry').map((e, index) => {
      const resource = isObject(get(e, 'resource')) ? (get(e, 'resource') as Record<string, unknown>) : undefined;
      const fullUrl = getStr(e, 'fullUrl');
      const entry: IndexedEntry = {
        index,
        location: `Bundle.entry[${index}]`,
        ...(fullUrl === undefined ? {} : { fullUrl }),
        ...(resource === undefined ? {} : { resource }),
        ...(str(resource?.['resourceType']) === undefined ? {} : { resourceType: str(resource?.['resourceType'])! }),
        method: (getStr(get(e, 'request'), 'method') ?? 'POST').toUpperCase(),
      };
      if (fullUrl !== undefined && !this.byFullUrl.has(fullUrl)) this.byFullUrl.set(fullUrl, entry);
      if (resource !== undefined) this.byResource.set(resource, entry);
      return entry;
    });
  }

  /** The entry a reference string points at, or undefined when it is not in the Bundle. */
  entryFor(reference: string): IndexedEntry | undefined {
    const exact = this.byFullUrl.get(reference);
    if (exact !== undefined) return exact;
    const m = /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
    if (!m) return undefined;
    const [, type, id] = m;
    return this.entries.find((e) => (e.resourceType === type && e.resource?.['id'] === id) || (e.fullUrl !== undefined && e.fullUrl.endsWith(`/${type}/${id}`)));
  }

  /** The resource a reference string points at in the Bundle (a ResourceLookup). */
  readonly lookup = (reference: string): Record<string, unknown> | undefined => this.entryFor(reference)?.resource;

  /** The entry of a resource of this Bundle. */
  entryOf(resource: Json): IndexedEntry | undefined {
    return isObject(resource) ? this.byResource.get(resource) : undefined;
  }
}

export interface ClassifiedBundle {
  readonly index: BundleIndex;
  readonly submissionSets: readonly IndexedEntry[];
  /** DocumentReferences to create. */
  readonly documentReferences: readonly IndexedEntry[];
  /** DocumentReferences updated (MHD's UpdateDocumentRefs: the replaced one set to superseded). */
  readonly documentReferenceUpdates: readonly IndexedEntry[];
  /** Folders to create, and existing Folders updated (new members added). */
  readonly folders: readonly IndexedEntry[];
  readonly binaries: readonly IndexedEntry[];
  readonly patients: readonly IndexedEntry[];
  /** FHIR document Bundles (ITI-65 FHIR Document Publish option) and anything else. */
  readonly others: readonly IndexedEntry[];
}

export function classifyBundle(bundle: Json): ClassifiedBundle {
  const index = new BundleIndex(bundle);
  const c = { submissionSets: [] as IndexedEntry[], documentReferences: [] as IndexedEntry[], documentReferenceUpdates: [] as IndexedEntry[], folders: [] as IndexedEntry[], binaries: [] as IndexedEntry[], patients: [] as IndexedEntry[], others: [] as IndexedEntry[] };
  for (const e of index.entries) {
    switch (e.resourceType) {
      case 'List': {
        const kind = listKind(e.resource);
        if (kind === 'submissionset') c.submissionSets.push(e);
        else if (kind === 'folder') c.folders.push(e);
        else c.others.push(e);
        break;
      }
      case 'DocumentReference':
        (isCreate(e) ? c.documentReferences : c.documentReferenceUpdates).push(e);
        break;
      case 'Binary':
        c.binaries.push(e);
        break;
      case 'Patient':
        c.patients.push(e);
        break;
      default:
        c.others.push(e);
    }
  }
  return { index, ...c };
}

/**
 * Strict base64: the RFC 4648 alphabet, padded to whole quads (white space between characters is
 * tolerated, as FHIR's base64Binary does). Node's own decoder skips anything else silently, so a
 * damaged document would be stored as other bytes than were sent: it is checked first.
 */
export function isBase64(value: string): boolean {
  const compact = /\s/.test(value) ? value.replace(/\s+/g, '') : value;
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
}

/** The bytes of a base64 value, undefined when it is not strict base64. */
export function decodeBase64(value: string): Buffer | undefined {
  return isBase64(value) ? Buffer.from(value.replace(/\s+/g, ''), 'base64') : undefined;
}

/** Where a DocumentReference's document is. */
export type DocumentSource =
  | { readonly kind: 'binary'; readonly entry: IndexedEntry; readonly location: string }
  | { readonly kind: 'data'; readonly data: string; readonly location: string }
  | { readonly kind: 'fhir-document'; readonly entry: IndexedEntry; readonly location: string }
  | { readonly kind: 'missing'; readonly problem: string; readonly location: string };

/** The document of a DocumentReference entry: attachment.data, or the Binary its attachment.url names in the Bundle. */
export function documentSourceOf(dr: IndexedEntry, index: BundleIndex): DocumentSource {
  const base = `${dr.location}.resource.content[0].attachment`;
  const content = getArr(dr.resource, 'content');
  if (content.length === 0) return { kind: 'missing', problem: 'the DocumentReference has no content', location: `${dr.location}.resource.content` };
  const attachment = get(content[0], 'attachment');
  if (!isObject(attachment)) return { kind: 'missing', problem: 'content[0] has no attachment', location: `${dr.location}.resource.content[0]` };
  const data = getStr(attachment, 'data');
  if (data !== undefined) return { kind: 'data', data, location: `${base}.data` };
  const url = getStr(attachment, 'url');
  if (url === undefined) return { kind: 'missing', problem: 'the attachment has neither url nor data: there is no document', location: base };
  const target = index.entryFor(url);
  if (target === undefined) {
    return { kind: 'missing', problem: `attachment.url ${url} names no Binary in the Bundle (documents outside the Bundle are not fetched)`, location: `${base}.url` };
  }
  if (target.resourceType === 'Binary') return { kind: 'binary', entry: target, location: `${base}.url` };
  if (target.resourceType === 'Bundle') return { kind: 'fhir-document', entry: target, location: `${base}.url` };
  return { kind: 'missing', problem: `attachment.url ${url} names a ${target.resourceType ?? 'resource'}, not a Binary`, location: `${base}.url` };
}
