/**
 * The XDS messages the tests send and the parts of the answers they read, in one place: the
 * Norwegian epikrise submission, stored-query and retrieve bodies, the status and error codes of a
 * response. Written as text for the same reason as the envelopes in ./soap.ts.
 */
import { readFileSync } from 'node:fs';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, descendants, type XmlElement } from '../../registry/xml/tree.js';
import { EPIKRISE_ITI42 } from '../../fixtures/index.js';

/** A patient id (CX) of a fødselsnummer, under the Norwegian F-number authority. */
export const cx = (fnr: string): string => `${fnr}^^^&2.16.578.1.12.4.1.4.1&ISO`;

/** A synthetic test person (valid fødselsnummer check digits), as CX. */
export const KARI = cx('13116900216');

let counter = 0;
/** A fresh uniqueId (OID) for a document or submission set. */
export function uid(): string {
  counter += 1;
  return `2.16.578.1.12.4.5.100.1.9.${Date.now()}.${counter}`;
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export interface EpikriseOptions {
  /** The patient (CX); KARI unless given. */
  readonly patient?: string;
  readonly docUid?: string;
  /** For a repository (ITI-41): without hash, size and repositoryUniqueId, which the repository fills in. */
  readonly forRepository?: boolean;
  /** Slots written as given (after the ones of the fixture). */
  readonly hash?: string;
  readonly size?: string;
  /** DocumentEntry id (symbolic), Document01 unless given. */
  readonly entryId?: string;
  readonly mimeType?: string;
  /** Confidentiality NORS (Volven 9603) instead of N. */
  readonly nors?: boolean;
}

/** An lcm:SubmitObjectsRequest with one DocumentEntry: the Norwegian epikrise fixture. */
export function epikrise(options: EpikriseOptions = {}): { xml: string; docUid: string } {
  const docUid = options.docUid ?? uid();
  let xml = readFileSync(EPIKRISE_ITI42, 'utf8')
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace(/<!--[\s\S]*?-->\s*/, '')
    .replaceAll('$PATIENT$', xmlEscape(options.patient ?? KARI))
    .replaceAll('$DOC_UID$', docUid)
    .replaceAll('$SS_UID$', uid())
    .replaceAll('$NOW$', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
  if (options.forRepository) xml = xml.replace(/<rim:Slot name="(hash|size|repositoryUniqueId)">[\s\S]*?<\/rim:Slot>\s*/g, '');
  const extra =
    (options.hash !== undefined ? `<rim:Slot name="hash"><rim:ValueList><rim:Value>${options.hash}</rim:Value></rim:ValueList></rim:Slot>` : '') +
    (options.size !== undefined ? `<rim:Slot name="size"><rim:ValueList><rim:Value>${options.size}</rim:Value></rim:ValueList></rim:Slot>` : '');
  if (extra !== '') xml = xml.replace(/(<rim:ExtrinsicObject id="Document01"[^>]*>)/, `$1${extra}`);
  if (options.mimeType) xml = xml.replace('mimeType="application/pdf"', `mimeType="${options.mimeType}"`);
  if (options.nors) {
    xml = xml.replace(
      /(classificationScheme="urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f" classifiedObject="Document01" nodeRepresentation=)"N"/,
      '$1"NORS"',
    );
  }
  if (options.entryId) xml = xml.replace(/"Document01"/g, `"${options.entryId}"`);
  return { xml, docUid };
}

/** An ITI-41 body with the documents inline (base64). */
export function provideBody(sorXml: string, documents: readonly { id: string; bytes: Buffer }[]): string {
  return (
    `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}">${sorXml}` +
    documents.map((d) => `<xdsb:Document id="${d.id}">${d.bytes.toString('base64')}</xdsb:Document>`).join('') +
    `</xdsb:ProvideAndRegisterDocumentSetRequest>`
  );
}

export interface FindDocumentsOptions {
  readonly returnType?: 'LeafClass' | 'ObjectRef';
  /** The AdhocQuery's home attribute (ITI-38). */
  readonly home?: string;
  /** Further rim:Slot elements, written as given. */
  readonly extraSlots?: string;
}

/** A FindDocuments stored query (approved entries) for one patient (CX). */
export function findDocumentsBody(patient: string, options: FindDocumentsOptions = {}): string {
  return (
    `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}">` +
    `<query:ResponseOption returnType="${options.returnType ?? 'LeafClass'}" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="${STORED_QUERY_ID.FindDocuments}"${options.home !== undefined ? ` home="${options.home}"` : ''}>` +
    `<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'${xmlEscape(patient)}'</rim:Value></rim:ValueList></rim:Slot>` +
    `<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>` +
    (options.extraSlots ?? '') +
    `</rim:AdhocQuery></query:AdhocQueryRequest>`
  );
}

/** A GetDocuments stored query by entryUUID. */
export function getDocumentsBody(uuids: readonly string[], home?: string): string {
  return (
    `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}">` +
    `<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="${STORED_QUERY_ID.GetDocuments}"${home !== undefined ? ` home="${home}"` : ''}>` +
    `<rim:Slot name="$XDSDocumentEntryEntryUUID"><rim:ValueList><rim:Value>(${uuids.map((u) => `'${u}'`).join(',')})</rim:Value></rim:ValueList></rim:Slot>` +
    `</rim:AdhocQuery></query:AdhocQueryRequest>`
  );
}

export interface DocumentRequest {
  /** xdsb:HomeCommunityId, left out when not given. */
  readonly home?: string;
  readonly repository: string;
  readonly document: string;
}

/** An ITI-43 / ITI-39 body. */
export function retrieveBody(requests: readonly DocumentRequest[]): string {
  return (
    `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}">` +
    requests
      .map(
        (r) =>
          `<xdsb:DocumentRequest>${r.home !== undefined ? `<xdsb:HomeCommunityId>${r.home}</xdsb:HomeCommunityId>` : ''}` +
          `<xdsb:RepositoryUniqueId>${r.repository}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>${r.document}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>`,
      )
      .join('') +
    `</xdsb:RetrieveDocumentSetRequest>`
  );
}

/**
 * The three response statuses, written out in full (ebRS 3.0; PartialSuccess is IHE's, ITI TF-3) rather than
 * taken from the product, so that a wrong URN on the wire fails a test.
 */
const STATUS_BY_URN: ReadonlyMap<string, string> = new Map([
  ['urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success', 'Success'],
  ['urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure', 'Failure'],
  ['urn:ihe:iti:2007:ResponseStatusType:PartialSuccess', 'PartialSuccess'],
]);

/**
 * The status of a response ('Success', 'PartialSuccess' or 'Failure') when its URN is exactly one
 * of the three; any other value comes back whole, so that comparing it with a short name fails.
 * Reads rs:RegistryResponse and query:AdhocQueryResponse, or the RegistryResponse inside an
 * xdsb:RetrieveDocumentSetResponse.
 */
export function status(body: XmlElement): string {
  const holder = body.attrs['status'] !== undefined ? body : childElement(body, NS.rs, 'RegistryResponse');
  const urn = holder?.attrs['status'];
  if (urn === undefined) return `(no status on ${body.local})`;
  return STATUS_BY_URN.get(urn) ?? urn;
}

/** The errorCode of every rs:RegistryError in the answer, in order. */
export function errorCodes(body: XmlElement): string[] {
  return descendants(body, NS.rs, 'RegistryError').map((e) => e.attrs['errorCode'] ?? '');
}
