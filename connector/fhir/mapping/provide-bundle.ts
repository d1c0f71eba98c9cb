/**
 * ITI-65 Provide Document Bundle → the submission ITI-41 hands the repository actor, and the
 * transaction-response Bundle back.
 *
 * What ITI-41 hands over (connector/transactions/iti41.ts): `repository.provideAndRegister(
 * submission, documents)`, where `submission` is the model's Submission and `documents` maps each
 * DocumentEntry's submitted id to its bytes (a stream or a staged blob). The repository checks
 * every stable DocumentEntry has a document and every document an entry, stages the bytes, fills
 * or checks size and hash, sets repositoryUniqueId and registers. So the result here is exactly
 * that pair (`submission`, and `documentContents(result)` for the map), and the HTTP layer calls
 * the same register path as ITI-41.
 *
 * The mapping (MHD ITI TF-2 3.65.4.1.3.1, "grouping with XDS"):
 * - SubmissionSet List, DocumentReferences, Folder Lists → SubmissionSet, DocumentEntries, Folders
 *   (list.ts, document-reference.ts), status Submitted as in an ITI-41 request.
 * - entryUUIDs: a resource's official `urn:uuid:` identifier, the entryUUID the source chose; when
 *   it has none, or another resource of the Bundle claims the same one (NHN's sample gives its
 *   SubmissionSet the DocumentReference's), a new one (the registry's time-ordered UUIDs). The one
 *   whose fullUrl is that UUID keeps it. Bundle references (fullUrl, `Type/id`) resolve to these.
 * - Associations: HasMember SubmissionSet → DocumentEntry (SubmissionSetStatus Original; Reference
 *   for a DocumentReference of this node named by `DocumentReference/<uuid>`), SubmissionSet →
 *   Folder, Folder → DocumentEntry, and for a member added to an existing Folder (the Folder List
 *   sent with PUT) also SubmissionSet → that association, as XDS asks when a document joins an
 *   existing Folder; relatesTo →
 *   RPLC / XFRM / APND / signs (or the exact type of xds-associationType).
 * - Documents: Binary.data of the Binary that attachment.url names, or attachment.data; strict
 *   base64; SHA-1 (hex) and size computed here. A hash or size the source gave must match (it is
 *   checked here, with the FHIR location, before the repository would); missing ones are filled.
 * - Left out on purpose: homeCommunityId (MHD defines it for query responses; in a submission the
 *   registry accepts only its own, and stores none) and repositoryUniqueId (the repository sets its
 *   own); the DocumentReference updates of MHD's UpdateDocumentRefs slice (the replaced document
 *   set to superseded), because the registry deprecates a replaced entry itself on RPLC.
 *
 * Patient existence is not checked here: the register path does (XDSUnknownPatientId). That every
 * object names the SubmissionSet's patient is, with the FHIR location (XDSPatientIdDoesNotMatch).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ASSOCIATION_TYPE, isUuid, NO_EXTRA, type Association, type DocumentEntry, type Folder, type Submission, type SubmissionSet } from '../../../registry/model/metadata.js';
import { newEntryUuid } from '../../../registry/model/uuid.js';
import type { DocumentContent } from '../../../repository/repository.js';
import { classifyBundle, documentSourceOf, isCreate, type IndexedEntry } from './bundle.js';
import { entryUuidOf, resourceIdOf } from './common.js';
import { documentReferenceTargetUuid, documentReferenceToDocumentEntry } from './document-reference.js';
import type { Bundle, BundleEntry } from './fhir.js';
import { hasErrors, isError, mhdError, mhdWarning, operationOutcome, type MhdIssue } from './issues.js';
import { listToFolder, listToSubmissionSet } from './list.js';
import type { PatientResolution } from './patient.js';
import { getArr, getStr, type Json } from './read.js';
import { mhdProvideBundleIssues } from './validate.js';

export interface ProvideBundleOptions {
  /**
   * The languageCode of a DocumentReference without attachment.language (e.g. `nb-NO`). XDS
   * requires one and MHD Comprehensive too, but NHN's reference sample has none; with this set the
   * node accepts such Bundles (with a warning) instead of the registry refusing them. Off by default.
   */
  readonly defaultLanguageCode?: string;
  /** The CX of a Patient reference outside the Bundle (e.g. a Patient of a PIXm/PDQm server). */
  readonly resolvePatient?: PatientResolution['resolvePatient'];
  /** The entryUUID of a DocumentReference reference outside the Bundle other than `DocumentReference/<uuid>`. */
  readonly resolveDocumentReference?: (reference: string) => string | undefined;
  /** New entryUUIDs (default: the registry's time-ordered `urn:uuid:`s). */
  readonly newUuid?: () => string;
}

export interface ProvidedDocument {
  /** The DocumentEntry it belongs to. */
  readonly entryUuid: string;
  readonly bytes: Buffer;
  /** SHA-1 of the bytes, lower-case hex (XDS's form). */
  readonly sha1: string;
  readonly size: number;
  /** Where the bytes were: the Binary's data, or the attachment's. */
  readonly location: string;
}

export type EntryKind = 'SubmissionSet' | 'DocumentEntry' | 'Folder' | 'FolderUpdate' | 'Document' | 'DocumentReferenceUpdate' | 'Patient' | 'Ignored';

/** What one request entry became, in request order: the transaction-response needs one answer per entry. */
export interface EntryOutcome {
  readonly index: number;
  readonly kind: EntryKind;
  readonly resourceType?: string;
  /** The object's entryUUID (for a Document, its DocumentEntry's). */
  readonly entryUuid?: string;
}

export interface ProvidedSubmission {
  readonly submission: Submission;
  /** The document of each DocumentEntry, by its entryUUID. */
  readonly documents: ReadonlyMap<string, ProvidedDocument>;
  readonly entries: readonly EntryOutcome[];
  /** Problems that do not stop the submission (also answered in the transaction-response). */
  readonly warnings: readonly MhdIssue[];
  /** Where the object with this XDS id (an entryUUID) came from, `Bundle.entry[i].resource…`: to locate registry errors. */
  readonly locate: (xdsId: string) => string | undefined;
}

export type ProvideBundleResult = { readonly ok: true; readonly value: ProvidedSubmission } | { readonly ok: false; readonly issues: readonly MhdIssue[] };

/** A resource's official urn:uuid identifier (what the source chose as entryUUID), if any. */
function officialUuid(resource: Json): string | undefined {
  const identifier = getArr(resource, 'identifier').find((i) => getStr(i, 'use') === 'official' && isUuid(getStr(i, 'value') ?? ''));
  return getStr(identifier, 'value');
}

/** The object without what a submission must not carry from MHD (see the module comment). */
function withoutHome<T extends SubmissionSet | DocumentEntry | Folder>(obj: T): T {
  const copy = { ...obj } as Record<string, unknown>;
  delete copy['homeCommunityId'];
  if (obj.type === 'DocumentEntry') delete copy['repositoryUniqueId'];
  return copy as T;
}

/** ITU-T X.667 / ISO/IEC 9834-8: every UUID is also the OID 2.25.<the UUID as one decimal integer>. */
export function uuidToOid(uuid: string): string {
  return `2.25.${BigInt(`0x${uuid.replace(/^urn:uuid:/i, '').replace(/-/g, '')}`).toString(10)}`;
}

const UUID_TEXT = /^(?:urn:uuid:)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/i;

/**
 * SubmissionSet and Folder uniqueIds are OIDs (ITI TF-3 4.2.3.3, 4.2.3.4). NHN's sample gives
 * a UUID (as `urn:oid:<uuid>`), the same one as its document's uniqueId. Such a UUID is written as
 * its standard OID (2.25…): deterministic, so a resubmission keeps its id, and no longer equal to
 * the document's uniqueId.
 */
function oidUniqueId<T extends SubmissionSet | Folder>(obj: T, location: string, issues: MhdIssue[]): T {
  if (obj.uniqueId === undefined || !UUID_TEXT.test(obj.uniqueId)) return obj;
  const oid = uuidToOid(obj.uniqueId);
  issues.push(mhdWarning('XDSRegistryMetadataError', location, `${obj.type}.uniqueId must be an OID; the UUID ${obj.uniqueId} was taken as the OID ${oid} (ITU-T X.667)`, 'value'));
  return { ...obj, uniqueId: oid };
}

/**
 * The submission of an ITI-65 Bundle (already parsed JSON; run `validateProvideBundle` first for
 * FHIR R4 structure). The MHD rules are checked here again, so the mapping never works on a Bundle
 * that breaks them. Never throws.
 */
export function provideBundleToSubmission(bundle: Json, options: ProvideBundleOptions = {}): ProvideBundleResult {
  try {
    return mapBundle(bundle, options);
  } catch (e) {
    // The readers tolerate any JSON; this is the net under a mistake of ours, not a path for input.
    return { ok: false, issues: [mhdError('XDSRegistryError', '', `the Bundle could not be mapped: ${e instanceof Error ? e.message : String(e)}`, 'exception')] };
  }
}

function mapBundle(bundle: Json, options: ProvideBundleOptions): ProvideBundleResult {
  const rules = mhdProvideBundleIssues(bundle);
  if (hasErrors(rules)) return { ok: false, issues: rules };
  const issues: MhdIssue[] = [...rules];
  const c = classifyBundle(bundle);
  const newUuid = options.newUuid ?? (() => newEntryUuid());
  const resolution: PatientResolution = { lookup: c.index.lookup, ...(options.resolvePatient ? { resolvePatient: options.resolvePatient } : {}) };
  const ssEntry = c.submissionSets[0]!;
  const origin = new Map<string, string>();

  // entryUUIDs of the objects this Bundle creates.
  const creations = [ssEntry, ...c.documentReferences, ...c.folders.filter(isCreate)];
  const claimants = new Map<string, IndexedEntry[]>();
  for (const e of creations) {
    const claimed = officialUuid(e.resource)?.toLowerCase();
    if (claimed !== undefined) claimants.set(claimed, [...(claimants.get(claimed) ?? []), e]);
  }
  const uuidOf = new Map<IndexedEntry, string>();
  for (const e of creations) {
    const claimed = officialUuid(e.resource);
    const rivals = claimed === undefined ? [] : claimants.get(claimed.toLowerCase())!;
    const owner = rivals.find((r) => r.fullUrl?.toLowerCase() === claimed?.toLowerCase()) ?? rivals[0];
    if (claimed !== undefined && owner === e) uuidOf.set(e, claimed);
    else {
      uuidOf.set(e, newUuid());
      if (claimed !== undefined) {
        issues.push(mhdWarning('XDSRegistryMetadataError', `${e.location}.resource.identifier`, `entryUUID ${claimed} is also the identifier of the resource at ${owner!.location}; this one was given ${uuidOf.get(e)}`));
      }
    }
    origin.set(uuidOf.get(e)!, `${e.location}.resource`);
  }

  /** The entryUUID a reference to a DocumentReference or Folder stands for. */
  const targetUuid = (item: Json): string | undefined => {
    const ref = getStr(item, 'reference');
    const target = ref === undefined ? undefined : c.index.entryFor(ref);
    if (target !== undefined) return uuidOf.get(target) ?? entryUuidOf(target.resource);
    return documentReferenceTargetUuid(item) ?? (ref === undefined ? undefined : options.resolveDocumentReference?.(ref));
  };

  const associations: Association[] = [];
  const associate = (associationType: string, sourceUuid: string, target: string, location: string, submissionSetStatus?: string): Association => {
    const a: Association = {
      type: 'Association',
      entryUuid: newUuid(),
      associationType,
      sourceUuid,
      targetUuid: target,
      availabilityStatus: 'Submitted',
      ...(submissionSetStatus === undefined ? {} : { submissionSetStatus }),
      extra: NO_EXTRA,
    };
    associations.push(a);
    origin.set(a.entryUuid, location);
    return a;
  };

  const outcomes = new Map<number, EntryOutcome>();
  const outcome = (e: IndexedEntry, kind: EntryKind, entryUuid?: string) =>
    outcomes.set(e.index, { index: e.index, kind, ...(e.resourceType === undefined ? {} : { resourceType: e.resourceType }), ...(entryUuid === undefined ? {} : { entryUuid }) });

  // DocumentEntries and their documents.
  const documentEntries: DocumentEntry[] = [];
  const documents = new Map<string, ProvidedDocument>();
  for (const dr of c.documentReferences) {
    const base = `${dr.location}.resource`;
    const read = documentReferenceToDocumentEntry(dr.resource, { ...resolution, location: base, inferSourcePatientId: true });
    issues.push(...read.issues);
    const entryUuid = uuidOf.get(dr)!;
    let entry: DocumentEntry = { ...withoutHome(read.entry), entryUuid, availabilityStatus: 'Submitted' };
    outcome(dr, 'DocumentEntry', entryUuid);
    if (entry.languageCode === undefined && options.defaultLanguageCode !== undefined) {
      entry = { ...entry, languageCode: options.defaultLanguageCode };
      issues.push(mhdWarning('XDSRegistryMetadataError', `${base}.content[0].attachment.language`, `no attachment.language: languageCode ${options.defaultLanguageCode} (this node's default) was used`, 'required'));
    }

    const source = documentSourceOf(dr, c.index);
    const data = source.kind === 'data' ? source.data : source.kind === 'binary' ? getStr(source.entry.resource, 'data') : undefined;
    if (data !== undefined) {
      const bytes = Buffer.from(data.replace(/\s+/g, ''), 'base64');
      const sha1 = createHash('sha1').update(bytes).digest('hex');
      const attachment = `${base}.content[0].attachment`;
      if (entry.hash !== undefined && entry.hash.trim().toLowerCase() !== sha1) {
        issues.push(mhdError('XDSRepositoryMetadataError', `${attachment}.hash`, `attachment.hash (SHA-1 ${entry.hash}) does not match the document (SHA-1 ${sha1}); FHIR gives it base64-encoded`));
      }
      if (entry.size !== undefined && entry.size !== String(bytes.length)) {
        issues.push(mhdError('XDSRepositoryMetadataError', `${attachment}.size`, `attachment.size ${entry.size} does not match the document (${bytes.length} bytes)`));
      }
      const mimeType = entry.mimeType ?? (source.kind === 'binary' ? getStr(source.entry.resource, 'contentType') : undefined);
      entry = { ...entry, hash: entry.hash ?? sha1, size: entry.size ?? String(bytes.length), ...(mimeType === undefined ? {} : { mimeType }) };
      const location = source.kind === 'binary' ? `${source.entry.location}.resource.data` : source.location;
      documents.set(entryUuid, { entryUuid, bytes, sha1, size: bytes.length, location });
      if (source.kind === 'binary') outcome(source.entry, 'Document', entryUuid);
    }
    documentEntries.push(entry);

    for (const r of read.relatesTo) {
      const target = targetUuid(r.target) ?? r.targetUuid;
      if (target === undefined) issues.push(mhdError('UnresolvedReferenceException', `${r.location}.target`, 'the relatesTo target names no DocumentReference of the Bundle or of this node'));
      else associate(r.associationType, entryUuid, target, r.location);
    }
  }

  // The SubmissionSet and its members.
  const ssRead = listToSubmissionSet(ssEntry.resource, { ...resolution, location: `${ssEntry.location}.resource` });
  issues.push(...ssRead.issues);
  const ssUuid = uuidOf.get(ssEntry)!;
  const submissionSet: SubmissionSet = oidUniqueId({ ...withoutHome(ssRead.object), entryUuid: ssUuid, availabilityStatus: 'Submitted' }, `${ssEntry.location}.resource.identifier`, issues);
  outcome(ssEntry, 'SubmissionSet', ssUuid);
  const newFolders = new Set(c.folders.filter(isCreate));
  const folderMembers = new Set<string>();
  for (const item of ssRead.entries) {
    const ref = getStr(item.item, 'reference');
    const target = ref === undefined ? undefined : c.index.entryFor(ref);
    const uuid = targetUuid(item.item);
    if (uuid === undefined) continue; // unresolvable members are errors of the MHD rules already
    if (target !== undefined && newFolders.has(target)) {
      associate(ASSOCIATION_TYPE.HasMember, ssUuid, uuid, item.location);
      folderMembers.add(uuid);
    } else {
      const original = target !== undefined && c.documentReferences.includes(target);
      associate(ASSOCIATION_TYPE.HasMember, ssUuid, uuid, item.location, original ? 'Original' : 'Reference');
    }
  }

  // Folders: new ones with their members; existing ones (PUT) gain the new documents they list.
  const folders: Folder[] = [];
  for (const f of c.folders) {
    const base = `${f.location}.resource`;
    const read = listToFolder(f.resource, { ...resolution, location: base });
    if (isCreate(f)) {
      issues.push(...read.issues);
      const folderUuid = uuidOf.get(f)!;
      folders.push(oidUniqueId({ ...withoutHome(read.object), entryUuid: folderUuid, availabilityStatus: 'Submitted' }, `${base}.identifier`, issues));
      outcome(f, 'Folder', folderUuid);
      // XDS makes every new Folder a member of the SubmissionSet; MHD sources sometimes leave it out of List.entry.
      if (!folderMembers.has(folderUuid)) associate(ASSOCIATION_TYPE.HasMember, ssUuid, folderUuid, base);
      for (const item of read.entries) {
        const uuid = targetUuid(item.item);
        if (uuid !== undefined) associate(ASSOCIATION_TYPE.HasMember, folderUuid, uuid, item.location);
      }
    } else {
      const folderUuid = entryUuidOf(f.resource);
      if (folderUuid === undefined) {
        issues.push(mhdError('UnresolvedReferenceException', `${base}.identifier`, 'an updated Folder needs its entryUUID (an official urn:uuid: identifier, or its id)'));
        continue;
      }
      outcome(f, 'FolderUpdate', folderUuid);
      for (const item of read.entries) {
        const ref = getStr(item.item, 'reference');
        const target = ref === undefined ? undefined : c.index.entryFor(ref);
        // Only documents of this Bundle can be new members; the others are taken as members already.
        if (target === undefined || !c.documentReferences.includes(target)) continue;
        const membership = associate(ASSOCIATION_TYPE.HasMember, folderUuid, uuidOf.get(target)!, item.location);
        associate(ASSOCIATION_TYPE.HasMember, ssUuid, membership.entryUuid, item.location);
      }
    }
  }

  // One patient for everything a submission holds, reported where the FHIR says otherwise.
  const patient = submissionSet.patientId;
  if (patient !== undefined) {
    const check = (obj: DocumentEntry | Folder) => {
      if (obj.patientId !== undefined && obj.patientId !== patient) {
        issues.push(mhdError('XDSPatientIdDoesNotMatch', `${origin.get(obj.entryUuid) ?? ''}.subject`, `patient ${obj.patientId} differs from the SubmissionSet's patient ${patient}`));
      }
    };
    documentEntries.forEach(check);
    folders.forEach(check);
  }

  for (const update of c.documentReferenceUpdates) {
    outcome(update, 'DocumentReferenceUpdate', entryUuidOf(update.resource));
    const uuid = entryUuidOf(update.resource);
    if (uuid === undefined || !associations.some((a) => a.targetUuid === uuid && a.associationType !== ASSOCIATION_TYPE.HasMember)) {
      issues.push(mhdWarning('XDSRegistryMetadataError', update.location, 'a DocumentReference update that no relatesTo of the Bundle explains is ignored: XDS metadata changes through replacement'));
    }
  }
  for (const p of c.patients) outcome(p, 'Patient');
  for (const other of c.index.entries) {
    if (!outcomes.has(other.index)) {
      outcome(other, 'Ignored');
      issues.push(mhdWarning('XDSRegistryMetadataError', other.location, `a ${other.resourceType ?? 'resource'} is not part of an MHD submission; it is ignored`));
    }
  }

  if (hasErrors(issues)) return { ok: false, issues };
  const submission: Submission = { submissionSet, documentEntries, folders, associations, objectRefs: [] };
  return {
    ok: true,
    value: {
      submission,
      documents,
      entries: [...outcomes.values()].sort((a, b) => a.index - b.index),
      warnings: issues.filter((i) => !isError(i)),
      locate: (xdsId) => origin.get(xdsId),
    },
  };
}

/** The documents as the repository takes them (`DocumentRepository.provideAndRegister`'s second argument). */
export function documentContents(provided: ProvidedSubmission): Map<string, DocumentContent> {
  return new Map([...provided.documents].map(([id, d]) => [id, Readable.from([d.bytes])]));
}

export interface TransactionResponseOptions {
  /** The location of a stored resource (default `<resourceType>/<id>`, the id being the UUID of the entryUUID). */
  readonly location?: (resourceType: 'DocumentReference' | 'List' | 'Binary', entryUuid: string) => string;
  /** Bundle.timestamp (default now). */
  readonly now?: Date;
}

function defaultLocation(resourceType: string, entryUuid: string): string {
  return `${resourceType}/${resourceIdOf(entryUuid) ?? entryUuid}`;
}

/**
 * The ITI-65 transaction-response (ITI TF-2 3.65.4.2.2): one entry per request entry, in order;
 * created objects `201 Created` with their location, updates and the Patient `200 OK`; warnings
 * located in an entry as its response.outcome.
 */
export function transactionResponse(provided: ProvidedSubmission, options: TransactionResponseOptions = {}): Bundle {
  const location = options.location ?? defaultLocation;
  const entry: BundleEntry[] = provided.entries.map((e) => {
    let response: NonNullable<BundleEntry['response']>;
    const uuid = e.entryUuid;
    switch (e.kind) {
      case 'DocumentEntry':
        response = { status: '201 Created', location: location('DocumentReference', uuid!) };
        break;
      case 'SubmissionSet':
      case 'Folder':
        response = { status: '201 Created', location: location('List', uuid!) };
        break;
      case 'Document':
        response = { status: '201 Created', location: location('Binary', uuid!) };
        break;
      case 'DocumentReferenceUpdate':
        response = uuid === undefined ? { status: '200 OK' } : { status: '200 OK', location: location('DocumentReference', uuid) };
        break;
      case 'FolderUpdate':
        response = { status: '200 OK', location: location('List', uuid!) };
        break;
      default:
        response = { status: '200 OK' };
    }
    const prefix = `Bundle.entry[${e.index}]`;
    const warnings = provided.warnings.filter((w) => w.location === prefix || w.location.startsWith(`${prefix}.`));
    if (warnings.length > 0) response.outcome = operationOutcome(warnings);
    return { response };
  });
  return { resourceType: 'Bundle', type: 'transaction-response', timestamp: (options.now ?? new Date()).toISOString(), entry };
}
