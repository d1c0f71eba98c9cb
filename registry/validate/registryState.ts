/**
 * Rules that compare the submission with what the registry already holds (via the snapshot the
 * register operation loads): pre-assigned ids must be new, uniqueIds must be new except for a
 * true resubmission of the same document (same hash and size: NIST 12004).
 */
import type { DocumentEntry, RegistryObject } from '../model/metadata.js';
import { allObjects, isBlank, perObject, type Rule, type RuleContext } from './rule.js';

const entries = (sub: { documentEntries: readonly DocumentEntry[] }) => sub.documentEntries;

function registeredWithUniqueId(obj: { uniqueId?: string }, ctx: RuleContext): readonly RegistryObject[] {
  return isBlank(obj.uniqueId) ? [] : (ctx.registry.byUniqueId.get(obj.uniqueId ?? '') ?? []);
}

function registeredDocuments(de: DocumentEntry, ctx: RuleContext): DocumentEntry[] {
  return registeredWithUniqueId(de, ctx).filter((o): o is DocumentEntry => o.type === 'DocumentEntry');
}

/** REG-entryUUID-new: a pre-assigned urn:uuid id is new to the registry. */
export const entryUuidNew: Rule = perObject(
  {
    id: 'REG-entryUUID-new',
    description: 'A pre-assigned urn:uuid id is not already used in the registry (NIST 15806)',
    errorCode: 'XDSRegistryMetadataError',
  },
  allObjects,
  (obj, ctx) => (ctx.registry.byUuid.has(obj.entryUuid) ? `id ${obj.entryUuid} is already registered` : undefined),
);

/** REG-document-uniqueId-kind: a DocumentEntry uniqueId is not a SubmissionSet's or Folder's. */
export const documentUniqueIdKind: Rule = perObject(
  {
    id: 'REG-document-uniqueId-kind',
    description: 'A DocumentEntry uniqueId is not registered on a SubmissionSet or Folder',
    errorCode: 'XDSDuplicateUniqueIdInRegistry',
  },
  entries,
  (de, ctx) => {
    const other = registeredWithUniqueId(de, ctx).find((o) => o.type !== 'DocumentEntry');
    return other === undefined ? undefined : `uniqueId ${de.uniqueId} is already used by a ${other.type}`;
  },
);

/** REG-document-resubmission-hash: a registered uniqueId is a resubmission of the same bytes. */
export const documentResubmissionHash: Rule = perObject(
  {
    id: 'REG-document-resubmission-hash',
    description: 'A DocumentEntry whose uniqueId is registered is a resubmission of the same document: same hash (any case)',
    errorCode: 'XDSNonIdenticalHash',
  },
  entries,
  (de, ctx) => {
    const differing = registeredDocuments(de, ctx).find((o) => (o.hash ?? '').toLowerCase() !== (de.hash ?? '').toLowerCase());
    return differing === undefined ? undefined : `uniqueId ${de.uniqueId} is registered (${differing.entryUuid}) with a different hash`;
  },
);

/** REG-document-resubmission-size: as the hash, for the size. */
export const documentResubmissionSize: Rule = perObject(
  {
    id: 'REG-document-resubmission-size',
    description: 'A DocumentEntry whose uniqueId is registered is a resubmission of the same document: same size',
    errorCode: 'XDSNonIdenticalSize',
  },
  entries,
  (de, ctx) => {
    const docs = registeredDocuments(de, ctx);
    // A different hash is already reported; a size difference adds nothing then.
    if (docs.some((o) => (o.hash ?? '').toLowerCase() !== (de.hash ?? '').toLowerCase())) return undefined;
    const differing = docs.find((o) => (o.size ?? '') !== (de.size ?? ''));
    return differing === undefined ? undefined : `uniqueId ${de.uniqueId} is registered (${differing.entryUuid}) with a different size`;
  },
);

/** REG-package-uniqueId-new: SubmissionSet and Folder uniqueIds are new. */
export const packageUniqueIdNew: Rule = perObject(
  {
    id: 'REG-package-uniqueId-new',
    description: 'SubmissionSet and Folder uniqueIds are not already registered',
    errorCode: 'XDSDuplicateUniqueIdInRegistry',
  },
  (sub) => [sub.submissionSet, ...sub.folders],
  (obj, ctx) => {
    return registeredWithUniqueId(obj, ctx).length > 0 ? `${obj.type}.uniqueId ${obj.uniqueId} is already registered` : undefined;
  },
);

export const registryStateRules: readonly Rule[] = [entryUuidNew, documentUniqueIdKind, documentResubmissionHash, documentResubmissionSize, packageUniqueIdNew];
