/**
 * Turning a testkit MetadataFile into the ebRIM 3.0 message the NIST toolkit would send:
 * placeholder substitution, ebRIM 2.1 → 3.0 conversion, AssignUuids, uniqueId allocation and
 * patient id substitution. The submission is edited as DOM; the maps of what was assigned are
 * returned so that later steps can refer to them (UseId sections AssignedUuids / AssignedUids /
 * AssignedPatientId).
 */
import { DOMImplementation } from '@xmldom/xmldom';
import { randomUUID } from 'node:crypto';
import { NS } from '../../registry/xml/namespaces.js';
import { attr, childElementsOf, type Doc, type Elem, localNameOf, parseXmlDom } from './dom.js';

export const SCHEME = {
  docUniqueId: 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab',
  ssUniqueId: 'urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8',
  folUniqueId: 'urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a',
  docPatientId: 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427',
  ssPatientId: 'urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446',
  folPatientId: 'urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a',
  ssSourceId: 'urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832',
} as const;
export const CLASSIFICATION_NODE = {
  submissionSet: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd',
  folder: 'urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2',
} as const;

const UNIQUE_ID_SCHEMES = new Set<string>([SCHEME.docUniqueId, SCHEME.ssUniqueId, SCHEME.folUniqueId]);
const PATIENT_ID_SCHEMES = new Set<string>([SCHEME.docPatientId, SCHEME.ssPatientId, SCHEME.folPatientId]);

/** ebRIM 2.1 used bare association type names; 3.0 uses these URNs. */
const ASSOCIATION_TYPE_30: Readonly<Record<string, string>> = {
  HasMember: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember',
  RPLC: 'urn:ihe:iti:2007:AssociationType:RPLC',
  APND: 'urn:ihe:iti:2007:AssociationType:APND',
  XFRM: 'urn:ihe:iti:2007:AssociationType:XFRM',
  XFRM_RPLC: 'urn:ihe:iti:2007:AssociationType:XFRM_RPLC',
  signs: 'urn:ihe:iti:2007:AssociationType:signs',
  IsSnapshotOf: 'urn:ihe:iti:2010:AssociationType:IsSnapshotOf',
};
const STATUS_30: Readonly<Record<string, string>> = {
  Approved: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',
  Deprecated: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated',
  Submitted: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted',
};
const OBJECT_TYPE_30: Readonly<Record<string, string>> = {
  Classification: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification',
  ExternalIdentifier: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier',
  Association: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association',
};
/** RegistryEntry attributes of ebRIM 2.1 with no 3.0 counterpart (3.0 moved versions into VersionInfo). */
const DROPPED_21_ATTRIBUTES = new Set(['majorVersion', 'minorVersion', 'stability', 'expiration', 'userVersion']);
/** Elements whose content model in 3.0 is Slot*, Name?, Description?, … (RegistryObjectType). */
const REGISTRY_OBJECTS = new Set([
  'ExtrinsicObject', 'RegistryPackage', 'Association', 'Classification', 'ExternalIdentifier',
]);

/**
 * Replaces `$token$` placeholders (and any other literal symbol a UseId/UseReport names) in the raw
 * text. Longest symbols first, so that `$patientid` never eats the prefix of `$patientid$`.
 */
export function substituteTokens(text: string, tokens: ReadonlyMap<string, string>, escapeXml = false): string {
  const keys = [...tokens.keys()].filter((k) => k.length > 0).sort((a, b) => b.length - a.length);
  let out = text;
  for (const k of keys) {
    const v = tokens.get(k)!;
    out = out.split(k).join(escapeXml ? xmlEscape(v) : v);
  }
  return out;
}

/** Values go into XML text and attributes (patient ids carry '&'), so they are escaped there. */
function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function isEbRim21(doc: Doc): boolean {
  const root = doc.documentElement as Elem;
  return root.namespaceURI === NS.rs21 || root.namespaceURI === NS.rim21;
}

/**
 * Converts an ebRIM 2.1 `rs:SubmitObjectsRequest` into an ebRIM 3.0 `lcm:SubmitObjectsRequest`, as
 * the toolkit does for `<XDSb/>` steps: new namespaces, LeafRegistryObjectList → RegistryObjectList,
 * ObjectRefs dropped, association types and statuses as URNs, 3.0 child order (Slot before Name),
 * and the ids / registryObject / objectType attributes that 3.0 requires on Classification,
 * ExternalIdentifier and Association (2.1 let them be implicit).
 */
export function convert21to30(input: Doc): Doc {
  const inRoot = input.documentElement as Elem;
  if (!isEbRim21(input)) throw new Error(`not ebRIM 2.1: root {${inRoot.namespaceURI}}${localNameOf(inRoot)}`);
  const impl = new DOMImplementation();
  const out = impl.createDocument(NS.lcm, 'lcm:SubmitObjectsRequest', null) as unknown as Doc;
  const root = out.documentElement as Elem;
  root.setAttribute('xmlns:rim', NS.rim);
  root.setAttribute('xmlns:rs', NS.rs);
  const list = out.createElementNS(NS.rim, 'rim:RegistryObjectList');
  root.appendChild(list);
  let generated = 0;
  const newId = (kind: string): string => `${kind}_${++generated}`;

  const copy = (src: Elem, parentId: string | undefined): Elem | undefined => {
    const name = localNameOf(src);
    if (name === 'ObjectRef') return undefined;
    const ns = src.namespaceURI === NS.rim21 ? NS.rim : src.namespaceURI ?? '';
    const qname = ns === NS.rim ? `rim:${name}` : src.nodeName;
    const dst = out.createElementNS(ns, qname);
    for (let i = 0; i < src.attributes.length; i++) {
      const a = src.attributes[i]!;
      if (a.name.startsWith('xmlns')) continue;
      if (DROPPED_21_ATTRIBUTES.has(a.name)) continue;
      let value = a.value;
      if (name === 'Association' && a.name === 'associationType') value = ASSOCIATION_TYPE_30[value] ?? value;
      if (a.name === 'status') value = STATUS_30[value] ?? value;
      if (name === 'LocalizedString' && a.name === 'lang') dst.setAttributeNS(NS.xml, 'xml:lang', value);
      else dst.setAttribute(a.name, value);
    }
    if (REGISTRY_OBJECTS.has(name)) {
      if (!dst.hasAttribute('id')) dst.setAttribute('id', newId(name));
      if (OBJECT_TYPE_30[name] && !dst.hasAttribute('objectType')) dst.setAttribute('objectType', OBJECT_TYPE_30[name]!);
      if (name === 'ExternalIdentifier' && !dst.hasAttribute('registryObject') && parentId) {
        dst.setAttribute('registryObject', parentId);
      }
      if (name === 'Classification' && !dst.hasAttribute('classifiedObject') && parentId) {
        dst.setAttribute('classifiedObject', parentId);
      }
    }
    const myId = dst.getAttribute('id') ?? parentId;
    const kids: Elem[] = [];
    for (let i = 0; i < src.childNodes.length; i++) {
      const k = src.childNodes[i]!;
      if (k.nodeType === 1) {
        const c = copy(k as unknown as Elem, myId ?? undefined);
        if (c) kids.push(c);
      } else if (k.nodeType === 3 || k.nodeType === 4) {
        if ((k.nodeValue ?? '').trim().length > 0) dst.appendChild(out.createTextNode(k.nodeValue ?? ''));
      }
    }
    for (const k of REGISTRY_OBJECTS.has(name) ? order30(kids) : kids) dst.appendChild(k);
    return dst;
  };

  for (const leafList of childElementsOf(inRoot, 'LeafRegistryObjectList')) {
    for (const obj of childElementsOf(leafList)) {
      const c = copy(obj, undefined);
      if (c) list.appendChild(c);
    }
  }
  return out;
}

/** ebRIM 3.0 RegistryObjectType order: Slot*, Name?, Description?, then the rest as written. */
function order30(kids: Elem[]): Elem[] {
  const rank = (e: Elem): number => {
    const n = localNameOf(e);
    return n === 'Slot' ? 0 : n === 'Name' ? 1 : n === 'Description' ? 2 : 3;
  };
  return kids.map((k, i) => ({ k, i })).sort((a, b) => rank(a.k) - rank(b.k) || a.i - b.i).map((x) => x.k);
}

/** Allocates fresh OIDs the way the toolkit's UniqueIdAllocator does: base.timestamp.counter. */
export class UniqueIdAllocator {
  private counter = 0;
  private readonly stamp: string;
  constructor(private readonly base = '1.2.42', now = new Date()) {
    const p = (n: number, w = 2): string => String(n).padStart(w, '0');
    // Milliseconds are appended so that two runner processes started in the same second differ.
    this.stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}${p(now.getUTCHours())}` +
      `${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}${p(now.getUTCMilliseconds(), 3)}`;
  }
  next(): string {
    this.counter += 1;
    return `${this.base}.${this.stamp}.${this.counter}`;
  }
}

export interface PrepareOptions {
  readonly assignUuids: boolean;
  readonly assignUids: boolean;
  /** Symbolic ids whose uniqueId stays as written even when assignUids is on. */
  readonly keepUidsOf?: ReadonlySet<string>;
  /** Patient id (CX) to force on SubmissionSet, DocumentEntries and Folders; undefined = leave as written. */
  readonly patientId?: string;
  readonly uids: UniqueIdAllocator;
  readonly newUuid?: () => string;
}

export interface PreparedIds {
  /** Original (symbolic) id → assigned urn:uuid. */
  readonly assignedUuids: Map<string, string>;
  /** Symbolic id of the owning object → allocated uniqueId. */
  readonly assignedUids: Map<string, string>;
  /** Symbolic id of each SubmissionSet / DocumentEntry / Folder → patient id it was given. */
  readonly assignedPatientIds: Map<string, string>;
}

/** The RegistryObjectList of a 3.0 submission (SubmitObjectsRequest or one wrapped in a PnR request). */
export function registryObjectList(doc: Doc): Elem | undefined {
  const root = doc.documentElement as Elem;
  const sor = localNameOf(root) === 'SubmitObjectsRequest' ? root : childElementsOf(root, 'SubmitObjectsRequest')[0];
  return sor ? childElementsOf(sor, 'RegistryObjectList')[0] : undefined;
}

const REFERENCE_ATTRIBUTES = ['classifiedObject', 'sourceObject', 'targetObject', 'registryObject', 'lid'];

/**
 * Applies uniqueId allocation, patient id substitution and AssignUuids to a 3.0 submission, in
 * that order (uniqueIds and patient ids are keyed by the symbolic ids the plan author wrote).
 */
export function prepareSubmission(doc: Doc, opts: PrepareOptions): PreparedIds {
  const list = registryObjectList(doc);
  const assignedUuids = new Map<string, string>();
  const assignedUids = new Map<string, string>();
  const assignedPatientIds = new Map<string, string>();
  if (!list) return { assignedUuids, assignedUids, assignedPatientIds };
  const all: Elem[] = [];
  const walk = (e: Elem): void => {
    for (const c of childElementsOf(e)) {
      all.push(c);
      walk(c);
    }
  };
  walk(list);

  for (const ei of all.filter((e) => localNameOf(e) === 'ExternalIdentifier')) {
    const scheme = attr(ei, 'identificationScheme') ?? '';
    const owner = attr(ei, 'registryObject') ?? ownerId(ei) ?? '';
    if (opts.assignUids && UNIQUE_ID_SCHEMES.has(scheme) && !opts.keepUidsOf?.has(owner)) {
      const uid = opts.uids.next();
      ei.setAttribute('value', uid);
      assignedUids.set(owner, uid);
    }
    if (opts.patientId !== undefined && PATIENT_ID_SCHEMES.has(scheme)) {
      ei.setAttribute('value', opts.patientId);
      assignedPatientIds.set(owner, opts.patientId);
    } else if (PATIENT_ID_SCHEMES.has(scheme)) {
      assignedPatientIds.set(owner, attr(ei, 'value') ?? '');
    }
  }

  if (opts.assignUuids) {
    const gen = opts.newUuid ?? (() => `urn:uuid:${randomUUID()}`);
    for (const e of all) {
      const id = attr(e, 'id');
      if (id === undefined || id.startsWith('urn:uuid:') || assignedUuids.has(id)) continue;
      assignedUuids.set(id, gen());
    }
    for (const e of all) {
      const id = attr(e, 'id');
      if (id !== undefined && assignedUuids.has(id)) e.setAttribute('id', assignedUuids.get(id)!);
      for (const a of REFERENCE_ATTRIBUTES) {
        const v = attr(e, a);
        if (v !== undefined && assignedUuids.has(v)) e.setAttribute(a, assignedUuids.get(v)!);
      }
    }
  }
  return { assignedUuids, assignedUids, assignedPatientIds };
}

function ownerId(e: Elem): string | undefined {
  const p = e.parentNode as unknown as Elem | null;
  return p && p.nodeType === 1 ? attr(p, 'id') : undefined;
}

/** Parses a metadata file after token substitution, converting 2.1 to 3.0 when needed. */
export function loadMetadata(text: string, tokens: ReadonlyMap<string, string>, what: string): Doc {
  const doc = parseXmlDom(substituteTokens(text, tokens, true), what);
  return isEbRim21(doc) ? convert21to30(doc) : doc;
}
