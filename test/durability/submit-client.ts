/**
 * A small, self-contained submitting client for the durability tests (crash, full disk): ITI-42
 * and ITI-41 (MTOM, as CXF sends it) built from the Norwegian epikrise fixture, and only the
 * answer's HTTP status, ebRS status and error codes read back. Kept apart from the shared test
 * helpers on purpose: these tests must keep meaning what they mean while those change.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EPIKRISE_ITI42 } from '../../fixtures/index.js';
import { NS } from '../../registry/xml/namespaces.js';

export const ITI41_ACTION = 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b';
export const ITI42_ACTION = 'urn:ihe:iti:2007:RegisterDocumentSet-b';
/** A synthetic test person (valid fødselsnummer check digits). */
export const TEST_PATIENT = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';

const TEMPLATE = readFileSync(EPIKRISE_ITI42, 'utf8')
  .replace(/^<\?xml[^>]*>\s*/, '')
  .replace(/<!--[\s\S]*?-->\s*/, '');

let counter = 0;
/** A fresh OID under the synthetic test root, unique across processes of one run. */
export function testUid(): string {
  counter += 1;
  return `2.16.578.1.12.4.5.100.1.9.${process.pid}.${Date.now()}.${counter}`;
}

export interface TestSubmission {
  /** lcm:SubmitObjectsRequest with one DocumentEntry `Document01`. */
  readonly xml: string;
  readonly submissionSetUid: string;
  readonly documentUid: string;
}

/**
 * A SubmitObjectsRequest with one DocumentEntry. For ITI-41 the repository fills in size, hash and
 * repositoryUniqueId (`forRepository`); for ITI-42 the fixture's own slots stay.
 */
export function testSubmission(forRepository: boolean): TestSubmission {
  const submissionSetUid = testUid();
  const documentUid = testUid();
  let xml = TEMPLATE;
  if (forRepository) xml = xml.replace(/<rim:Slot name="(hash|size|repositoryUniqueId)">[\s\S]*?<\/rim:Slot>\s*/g, '');
  xml = xml
    .replaceAll('$PATIENT$', TEST_PATIENT.replace(/&/g, '&amp;'))
    .replaceAll('$DOC_UID$', documentUid)
    .replaceAll('$SS_UID$', submissionSetUid)
    .replaceAll('$NOW$', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
  return { xml, submissionSetUid, documentUid };
}

function envelope(action: string, to: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}"><soap:Header>` +
    `<wsa:Action soap:mustUnderstand="1">${action}</wsa:Action><wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsa:To soap:mustUnderstand="1">${to}</wsa:To></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

export interface SubmitAnswer {
  readonly httpStatus: number;
  /** `Success`, `Failure`, `PartialSuccess`, or undefined for a fault or no RegistryResponse. */
  readonly status: string | undefined;
  readonly codes: readonly string[];
  readonly text: string;
}

async function post(url: string, body: Buffer, contentType: string): Promise<SubmitAnswer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) });
  const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
  const status = /(?:RegistryResponse|AdhocQueryResponse)[^>]*status="[^"]*:([A-Za-z]+)"/.exec(text)?.[1];
  const codes = [...text.matchAll(/errorCode="([^"]+)"/g)].map((m) => m[1]!);
  return { httpStatus: res.status, status, codes, text };
}

/** ITI-42 to the registry endpoint. */
export function register(url: string, submission: TestSubmission): Promise<SubmitAnswer> {
  return post(url, Buffer.from(envelope(ITI42_ACTION, url, submission.xml)), `application/soap+xml; charset=UTF-8; action="${ITI42_ACTION}"`);
}

/** ITI-41 to the repository endpoint, the document as an MTOM part. */
export function provide(url: string, submission: TestSubmission, document: Buffer): Promise<SubmitAnswer> {
  const boundary = `uuid:${randomUUID()}`;
  const cid = `${randomUUID()}-Document01@cxf.apache.org`;
  const body =
    `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="${NS.xdsb}" xmlns:xop="${NS.xop}">${submission.xml}` +
    `<xdsb:Document id="Document01"><xop:Include href="cid:${encodeURIComponent(cid)}"/></xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`;
  const bytes = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\nContent-Transfer-Encoding: binary\r\n` +
        `Content-ID: <root.message@cxf.apache.org>\r\n\r\n${envelope(ITI41_ACTION, url, body)}` +
        `\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${cid}>\r\n\r\n`,
    ),
    document,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const ct = `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"; action="${ITI41_ACTION}"`;
  return post(url, bytes, ct);
}

export const ITI18_ACTION = 'urn:ihe:iti:2007:RegistryStoredQuery';
export const ITI43_ACTION = 'urn:ihe:iti:2007:RetrieveDocumentSet';

/** ITI-18 FindDocuments (Approved, ObjectRef) for a patient. */
export function findDocuments(url: string, patientId = TEST_PATIENT): Promise<SubmitAnswer> {
  const body =
    `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}"><query:ResponseOption returnType="ObjectRef" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">` +
    `<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'${patientId.replace(/&/g, '&amp;')}'</rim:Value></rim:ValueList></rim:Slot>` +
    `<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>` +
    `</rim:AdhocQuery></query:AdhocQueryRequest>`;
  return post(url, Buffer.from(envelope(ITI18_ACTION, url, body)), `application/soap+xml; charset=UTF-8; action="${ITI18_ACTION}"`);
}

/** ITI-43 for one document; the answer's text includes the MTOM parts (check `status`/`codes`). */
export function retrieveDocument(url: string, repositoryUniqueId: string, documentUniqueId: string): Promise<SubmitAnswer> {
  const body =
    `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}"><xdsb:DocumentRequest><xdsb:RepositoryUniqueId>${repositoryUniqueId}</xdsb:RepositoryUniqueId>` +
    `<xdsb:DocumentUniqueId>${documentUniqueId}</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`;
  return post(url, Buffer.from(envelope(ITI43_ACTION, url, body)), `application/soap+xml; charset=UTF-8; action="${ITI43_ACTION}"`);
}
