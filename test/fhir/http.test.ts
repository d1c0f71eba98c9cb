/**
 * The MHD endpoint over real HTTP against a real node (trust off): NHN's ITI-65 sample accepted as
 * it is and then found by ITI-67 and by ITI-18, retrieved by ITI-68 and by ITI-43 with the same
 * bytes; a document registered by ITI-41 found and retrieved through MHD with the same metadata;
 * every search parameter; byte ranges; every refusal as an OperationOutcome with its status and
 * XDS code; and the audit: an MHD search leaves the same kind of event as the ITI-18 it stands for.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { documentReferenceToDocumentEntry } from '../../connector/fhir/mapping/document-reference.js';
import { XDS_ERROR_CODE_SYSTEM } from '../../connector/fhir/mapping/fhir.js';
import { loadFhirDefinitions, validateFhirResource } from '../../connector/fhir/mapping/validate.js';
import { parseAdhocQueryResponse } from '../../registry/ebxml/index.js';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import type { RegistryPort } from '../../repository/registry-port.js';
import { cx, epikrise, findDocumentsBody, getDocumentsBody, provideBody, retrieveBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { auditRows } from '../wiring/helpers.js';
import {
  FNR_OID,
  KARI_FNR,
  minimalBundle,
  NHN_DOC_UID,
  NHN_DOC_UUID,
  NHN_FNR,
  nhnBundle,
  patientOf,
  REFERENCED_UUID,
  REPLACED_UUID,
  variant,
  type Json,
} from './bundles.js';
import { documentReferenceSearchsetJson } from '../../connector/fhir/http/searchset.js';
import { documentReferenceSearchBundle } from '../../connector/fhir/mapping/search.js';
import { mhdWarning } from '../../connector/fhir/mapping/issues.js';
import { canonicalDocumentEntry, fullDocumentEntry, relations } from './model-fixtures.js';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Json;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: Json = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Json);
  } catch {
    json = { text };
  }
  return { status: res.status, headers: res.headers, json };
}

const fhirPost = (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
  call(url, { method: 'POST', headers: { 'content-type': 'application/fhir+json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** The XDS codes of an OperationOutcome's issues. */
function xdsCodes(outcome: Json): string[] {
  expect(outcome.resourceType, JSON.stringify(outcome)).to.equal('OperationOutcome');
  return (outcome.issue as Json[]).flatMap((i) => (i.details?.coding ?? []).filter((c: Json) => c.system === XDS_ERROR_CODE_SYSTEM).map((c: Json) => c.code as string));
}

function expectOutcome(answer: Answer, httpStatus: number, code?: string): void {
  expect(answer.status, JSON.stringify(answer.json)).to.equal(httpStatus);
  expect(answer.headers.get('content-type')).to.match(/^application\/fhir\+json/);
  expect(answer.json.resourceType).to.equal('OperationOutcome');
  if (code !== undefined) expect(xdsCodes(answer.json)).to.include(code);
  // Never internals: no stack trace or source path in what the client reads.
  expect(JSON.stringify(answer.json)).to.not.match(/\bat .*\.(ts|js):\d+|node_modules/);
}

async function bytesOf(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** The entryUUIDs of a searchset's matches. */
const ids = (bundle: Json): string[] => (bundle.entry ?? []).filter((e: Json) => e.search?.mode === 'match').map((e: Json) => e.resource.id as string);

describe('MHD over HTTP (trust off)', function () {
  this.timeout(60_000);
  let node: TestNode;
  let base: string;
  let provided: Answer;
  const nhnBytes = Buffer.from(nhnBundle().entry[3].resource.data as string, 'base64');
  const searchUuid = randomUUID();

  before(async () => {
    node = await startTestNode({ registry: { patientIds: { acceptSyntheticNorwegianIds: true } } });
    base = `${node.url}/fhir`;
    loadFhirDefinitions();
    provided = await fhirPost(base, nhnBundle());
    // A second document of the same patient with event codes and a related id, for the search parameters.
    const second = await fhirPost(base, variant({ entryUuid: searchUuid, event: true, related: true }));
    expect(second.status, JSON.stringify(second.json)).to.equal(200);
  });
  after(async () => node?.close());

  describe('ITI-65 Provide Document Bundle', () => {
    it("accepts NHN's sample unchanged: a transaction-response with one answer per entry, the document's location its ITI-68 URL", () => {
      expect(provided.status, JSON.stringify(provided.json)).to.equal(200);
      expect(provided.headers.get('content-type')).to.equal('application/fhir+json; charset=utf-8');
      const r = provided.json;
      expect(r.resourceType).to.equal('Bundle');
      expect(r.type).to.equal('transaction-response');
      expect(r.entry.map((e: Json) => e.response.status)).to.deep.equal(['201 Created', '200 OK', '201 Created', '201 Created']);
      expect(r.entry[2].response.location).to.equal(`DocumentReference/${NHN_DOC_UUID}`);
      expect(r.entry[3].response.location).to.equal(`Binary/${NHN_DOC_UID}?repositoryUniqueId=${node.config.repository.repositoryUniqueId}`);
      // The language the sample lacks came from fhir.defaultLanguageCode, and the answer says so.
      expect(JSON.stringify(r.entry[2].response.outcome)).to.contain('nb-NO');
      expect(validateFhirResource(r)).to.deep.equal([]);
    });

    it('finds the provided document through ITI-67 and through ITI-18 (SOAP): the same entry', async () => {
      const search = await call(`${base}/DocumentReference?${patientOf(NHN_FNR)}&status=current&_id=${NHN_DOC_UUID}`);
      expect(search.status).to.equal(200);
      expect(ids(search.json)).to.deep.equal([NHN_DOC_UUID]);
      const soap = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, getDocumentsBody([`urn:uuid:${NHN_DOC_UUID}`]));
      expect(status(soap.body)).to.equal('Success');
      const viaSoap = parseAdhocQueryResponse(soap.body).objects as DocumentEntry[];
      expect(viaSoap.map((o) => o.entryUuid)).to.deep.equal([`urn:uuid:${NHN_DOC_UUID}`]);
      const viaFhir = documentReferenceToDocumentEntry(search.json.entry[0].resource);
      expect(viaFhir.issues.filter((i) => i.severity !== 'warning')).to.deep.equal([]);
      expect(viaFhir.entry).to.deep.equal(viaSoap[0]);
      // And FindDocuments over SOAP lists both of the patient's documents.
      const find = parseAdhocQueryResponse((await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, findDocumentsBody(cx(NHN_FNR)))).body);
      expect(find.objects.map((o) => o.entryUuid).sort()).to.deep.equal([`urn:uuid:${NHN_DOC_UUID}`, `urn:uuid:${searchUuid}`].sort());
    });

    it('retrieves it through ITI-68 and through ITI-43 with identical bytes, the Content-Type from the entry', async () => {
      const search = await call(`${base}/DocumentReference?${patientOf(NHN_FNR)}&status=current&_id=${NHN_DOC_UUID}`);
      const url = search.json.entry[0].resource.content[0].attachment.url as string;
      expect(url).to.equal(`${base}/Binary/${NHN_DOC_UID}?repositoryUniqueId=${node.config.repository.repositoryUniqueId}`);
      const viaFhir = await bytesOf(url);
      expect(viaFhir.status).to.equal(200);
      expect(viaFhir.headers.get('content-type')).to.equal('application/xml');
      expect(viaFhir.headers.get('content-length')).to.equal(String(nhnBytes.length));
      expect(viaFhir.headers.get('accept-ranges')).to.equal('bytes');
      const soap = await postSoap(`${node.url}/xds/repository`, ACTIONS.iti43.request, retrieveBody([{ repository: node.config.repository.repositoryUniqueId, document: NHN_DOC_UID }]));
      expect(status(soap.body)).to.equal('Success');
      const [viaSoap] = [...soap.parts.values()];
      expect(viaFhir.bytes.equals(nhnBytes)).to.equal(true);
      expect(viaSoap!.equals(viaFhir.bytes)).to.equal(true);
      // As a FHIR Binary resource to a client that asks for FHIR JSON.
      const binary = await call(url, { headers: { accept: 'application/fhir+json' } });
      expect(binary.json).to.deep.equal({ resourceType: 'Binary', contentType: 'application/xml', data: nhnBytes.toString('base64') });
    });

    it('is refused when sent again: XDSDuplicateUniqueIdInRegistry, located in the Bundle (400: the registry also calls the entryUUID taken invalid)', async () => {
      const again = await fhirPost(base, nhnBundle());
      expectOutcome(again, 400, 'XDSDuplicateUniqueIdInRegistry');
      expect(JSON.stringify(again.json)).to.contain('Bundle.entry[2].resource');
    });

    it('answers a Bundle for an unknown patient with 404 and XDSUnknownPatientId, and stores nothing', async () => {
      const unknown = await fhirPost(base, variant({ patient: '17855599121' }));
      expectOutcome(unknown, 404, 'XDSUnknownPatientId');
      const search = await call(`${base}/DocumentReference?${patientOf('17855599121')}&status=current`);
      expect(search.json.total).to.equal(0);
    });

    it('registers a replacement, a new Folder and a reference to a stored document (the Minimal-option Bundle)', async () => {
      for (const uuid of [REPLACED_UUID, REFERENCED_UUID]) {
        const stored = await fhirPost(base, variant({ entryUuid: uuid, patient: KARI_FNR }));
        expect(stored.status, JSON.stringify(stored.json)).to.equal(200);
      }
      const res = await fhirPost(base, minimalBundle());
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      // The replaced document is superseded, its replacement relates to it.
      const superseded = await call(`${base}/DocumentReference?${patientOf(KARI_FNR)}&status=superseded`);
      expect(ids(superseded.json)).to.deep.equal([REPLACED_UUID]);
      const current = await call(`${base}/DocumentReference?${patientOf(KARI_FNR)}&status=current`);
      const replacing = (current.json.entry as Json[]).find((e) => e.resource.relatesTo !== undefined);
      expect(replacing?.resource.relatesTo).to.deep.equal([{ code: 'replaces', target: { reference: `DocumentReference/${REPLACED_UUID}`, type: 'DocumentReference' } }]);
      // The Folder, with both new documents as entries.
      const folders = await call(`${base}/List?${patientOf(KARI_FNR)}&status=current&code=folder`);
      expect(folders.status).to.equal(200);
      expect(folders.json.total).to.equal(1);
      expect(folders.json.entry[0].resource.entry.map((e: Json) => e.item.reference.split('/')[0])).to.deep.equal(['DocumentReference', 'DocumentReference']);
    });
  });

  describe('ITI-41 → MHD', () => {
    it('finds and retrieves a document registered by ITI-41; mapped back, its DocumentReference is the entry ITI-18 returns', async () => {
      const bytes = Buffer.from('%PDF-1.4 epikrise fra ITI-41\n');
      const { xml, docUid } = epikrise({ forRepository: true });
      const res = await postSoap(`${node.url}/xds/repository`, ACTIONS.iti41.request, provideBody(xml, [{ id: 'Document01', bytes }]));
      expect(status(res.body)).to.equal('Success');
      const search = await call(`${base}/DocumentReference?${patientOf(KARI_FNR)}&status=current&identifier=urn:oid:${docUid}`);
      expect(search.status).to.equal(200);
      expect(search.json.total).to.equal(1);
      const resource = search.json.entry[0].resource;
      expect(validateFhirResource(resource)).to.deep.equal([]);
      const soap = parseAdhocQueryResponse((await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, getDocumentsBody([`urn:uuid:${resource.id}`]))).body);
      expect(documentReferenceToDocumentEntry(resource).entry).to.deep.equal(soap.objects[0]);
      const retrieved = await bytesOf(resource.content[0].attachment.url);
      expect(retrieved.headers.get('content-type')).to.equal('application/pdf');
      expect(retrieved.bytes.equals(bytes)).to.equal(true);
      // The read interaction gives the same resource.
      const read = await call(`${base}/DocumentReference/${resource.id}`);
      expect(read.status).to.equal(200);
      expect(read.json).to.deep.equal(resource);
    });
  });

  describe('ITI-67 search parameters, each over HTTP', () => {
    let doc: Json;
    before(async () => {
      doc = (await call(`${base}/DocumentReference?${patientOf(NHN_FNR)}&status=current&_id=${searchUuid}`)).json.entry[0].resource;
    });
    const token = (c: Json): string => `${c.system}|${c.code}`;
    /** Searches with `extra` added to the patient and status: does it find the document? */
    const finds = async (extra: string, patient = patientOf(NHN_FNR), status = 'current'): Promise<boolean> => {
      const res = await call(`${base}/DocumentReference?${patient}&status=${status}&${extra}`);
      expect(res.status, `${extra}: ${JSON.stringify(res.json)}`).to.equal(200);
      return ids(res.json).includes(searchUuid);
    };
    const cases: [string, () => string, () => string][] = [
      ['category', () => `category=${encodeURIComponent(token(doc.category[0].coding[0]))}`, () => `category=${encodeURIComponent('urn:oid:2.16.578.1.12.4.1.1.9602|A99-9')}`],
      ['type', () => `type=${encodeURIComponent(token(doc.type.coding[0]))}`, () => `type=${encodeURIComponent('urn:oid:2.16.578.1.12.4.1.1.9602|A99-9')}`],
      ['setting', () => `setting=${encodeURIComponent(token(doc.context.practiceSetting.coding[0]))}`, () => `setting=${encodeURIComponent('urn:oid:2.16.578.1.12.4.1.1.8663|XX')}`],
      ['facility', () => `facility=${encodeURIComponent(token(doc.context.facilityType.coding[0]))}`, () => `facility=${encodeURIComponent('urn:oid:2.16.578.1.12.4.1.1.1305|00.000')}`],
      ['format', () => `format=${encodeURIComponent(token(doc.content[0].format))}`, () => `format=${encodeURIComponent('urn:oid:1.2.3|other')}`],
      ['event', () => `event=${encodeURIComponent('urn:oid:2.16.578.1.12.4.5.100.9.7|KONS')}`, () => `event=${encodeURIComponent('urn:oid:2.16.578.1.12.4.5.100.9.7|ANNET')}`],
      ['security-label', () => `security-label=${encodeURIComponent(token(doc.securityLabel[0].coding[0]))}`, () => `security-label=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R')}`],
      ['date', () => 'date=ge2026-04-21', () => 'date=lt2026-04-21'],
      ['creation', () => 'creation=2026-04-21', () => 'creation=2026-04-22'],
      ['period', () => 'period=ge2026-04-21&period=lt2026-04-22', () => 'period=ge2026-04-22'],
      ['author.family', () => 'author.family=plassering', () => 'author.family=Nordmann'],
      ['author.given', () => `author.given=${encodeURIComponent('skjør')}`, () => 'author.given=Ola'],
      ['related', () => `related=${encodeURIComponent('urn:oid:2.16.578.1.12.4.5.100.9.8|HENV-4711')}`, () => `related=${encodeURIComponent('urn:oid:2.16.578.1.12.4.5.100.9.8|HENV-0000')}`],
      ['identifier', () => `identifier=${encodeURIComponent(`urn:ietf:rfc:3986|urn:uuid:${searchUuid}`)}`, () => `identifier=${encodeURIComponent(`urn:ietf:rfc:3986|urn:uuid:${randomUUID()}`)}`],
      ['_id', () => `_id=${searchUuid}`, () => `_id=${randomUUID()}`],
    ];
    for (const [name, match, miss] of cases) {
      it(`${name}: a matching value finds the document, another does not`, async () => {
        expect(await finds(match()), match()).to.equal(true);
        expect(await finds(miss()), miss()).to.equal(false);
      });
    }

    it('patient (a node Patient reference) and status', async () => {
      expect(await finds('', `patient=Patient/${FNR_OID}-${NHN_FNR}`)).to.equal(true);
      expect(await finds('', `patient=Patient/${FNR_OID}-${KARI_FNR}`)).to.equal(false);
      expect(await finds('', patientOf(NHN_FNR), 'superseded')).to.equal(false);
    });

    it('POST DocumentReference/_search with a form: the same answer as GET', async () => {
      const query = `${patientOf(NHN_FNR)}&status=current&_id=${searchUuid}`;
      const get = await call(`${base}/DocumentReference?${query}`);
      const post = await call(`${base}/DocumentReference/_search`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query });
      expect(post.status).to.equal(200);
      expect(ids(post.json)).to.deep.equal(ids(get.json));
    });

    it('answers a valid searchset: fullUrl, self link, total, a DocumentReference per match', async () => {
      const res = await call(`${base}/DocumentReference?${patientOf(NHN_FNR)}&status=current`);
      expect(res.json.total).to.equal(2);
      expect(res.json.link[0].relation).to.equal('self');
      for (const e of res.json.entry as Json[]) expect(e.fullUrl).to.equal(`${base}/DocumentReference/${e.resource.id}`);
      expect(validateFhirResource(res.json)).to.deep.equal([]);
    });
  });

  describe('ITI-66 Find Document Lists', () => {
    it('finds the SubmissionSets by each parameter, their documents as entries', async () => {
      const lists = async (extra: string) => {
        const res = await call(`${base}/List?${patientOf(NHN_FNR)}&status=current&code=submissionset${extra}`);
        expect(res.status, JSON.stringify(res.json)).to.equal(200);
        return res.json;
      };
      const all = await lists('');
      expect(all.total).to.equal(2);
      expect(validateFhirResource(all)).to.deep.equal([]);
      const ss = all.entry[0].resource;
      expect(ss.entry.map((e: Json) => e.item.reference.split('/')[0])).to.deep.equal(['DocumentReference']);
      const designation = ss.extension.find((e: Json) => /designationType$/i.test(e.url)).valueCodeableConcept.coding[0];
      const sourceId = ss.extension.find((e: Json) => /sourceId$/i.test(e.url)).valueIdentifier.value as string;
      expect((await lists(`&designationType=${encodeURIComponent(`${designation.system}|${designation.code}`)}`)).total).to.equal(2);
      expect((await lists(`&designationType=${encodeURIComponent(`${designation.system}|NONE`)}`)).total).to.equal(0);
      expect((await lists(`&sourceId=${encodeURIComponent(sourceId)}`)).total).to.equal(2);
      expect((await lists('&sourceId=urn:oid:1.2.3.4')).total).to.equal(0);
      expect((await lists('&source.family=FATTIGDOM&source.given=SIGEN')).total).to.equal(2);
      expect((await lists('&source.family=Nordmann')).total).to.equal(0);
      expect((await lists('&date=ge2000-01-01')).total).to.equal(2);
      expect((await lists('&date=lt2000-01-01')).total).to.equal(0);
      const post = await call(`${base}/List/_search`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${patientOf(NHN_FNR)}&status=current&code=submissionset` });
      expect(post.json.total).to.equal(2);
    });
  });

  describe('ITI-68 byte ranges', () => {
    const url = () => `${base}/Binary/${NHN_DOC_UID}?repositoryUniqueId=${node.config.repository.repositoryUniqueId}`;
    it('bytes=a-b, a- and -n: 206 with Content-Range and exactly those bytes', async () => {
      for (const [range, from, to] of [['bytes=0-9', 0, 9], ['bytes=100-', 100, nhnBytes.length - 1], ['bytes=-25', nhnBytes.length - 25, nhnBytes.length - 1], ['bytes=3000-999999', 3000, nhnBytes.length - 1]] as const) {
        const res = await bytesOf(url(), { range });
        expect(res.status, range).to.equal(206);
        expect(res.headers.get('content-range')).to.equal(`bytes ${from}-${to}/${nhnBytes.length}`);
        expect(res.bytes.equals(nhnBytes.subarray(from, to + 1)), range).to.equal(true);
      }
    });
    it('a range past the end: 416 with Content-Range bytes */size and an OperationOutcome', async () => {
      const res = await call(url(), { headers: { range: `bytes=${nhnBytes.length}-` } });
      expectOutcome(res, 416);
      expect(res.headers.get('content-range')).to.equal(`bytes */${nhnBytes.length}`);
    });
    it('several ranges, a malformed one, or If-Range: the whole document', async () => {
      const variants: Record<string, string>[] = [{ range: 'bytes=0-1,5-6' }, { range: 'bytes=9-2' }, { range: 'lines=1-2' }, { range: 'bytes=0-9', 'if-range': '"x"' }];
      for (const headers of variants) {
        const res = await bytesOf(url(), headers);
        expect(res.status, JSON.stringify(headers)).to.equal(200);
        expect(res.bytes.equals(nhnBytes)).to.equal(true);
      }
    });
  });

  describe('refusals: an OperationOutcome with the HTTP status and the XDS code', () => {
    it('malformed JSON → 400 XDSRegistryMetadataError', async () => expectOutcome(await fhirPost(base, '{"resourceType": "Bundle",'), 400, 'XDSRegistryMetadataError'));
    it('a resource that is no Bundle → 400', async () => expectOutcome(await fhirPost(base, { resourceType: 'Patient' }), 400, 'XDSRegistryMetadataError'));
    it('a batch Bundle → 400', async () => expectOutcome(await fhirPost(base, { ...nhnBundle(), type: 'batch' }), 400, 'XDSRegistryMetadataError'));
    it('a Binary without its DocumentReference → 400 XDSMissingDocumentMetadata', async () => {
      const b = variant();
      b.entry.find((e: Json) => e.resource.resourceType === 'DocumentReference').resource.content[0].attachment.url = 'urn:uuid:11111111-2222-4333-8444-555555555555';
      expectOutcome(await fhirPost(base, b), 400, 'XDSMissingDocumentMetadata');
    });
    it('a SubmissionSet entry naming nothing → 404 UnresolvedReferenceException', async () => {
      const b = variant();
      b.entry[0].resource.entry.push({ item: { reference: 'urn:uuid:11111111-2222-4333-8444-555555555555' } });
      expectOutcome(await fhirPost(base, b), 404, 'UnresolvedReferenceException');
    });
    it('a hash that does not match the document → 400 XDSRepositoryMetadataError', async () => {
      const b = variant();
      b.entry.find((e: Json) => e.resource.resourceType === 'DocumentReference').resource.content[0].attachment.hash = Buffer.alloc(20).toString('base64');
      expectOutcome(await fhirPost(base, b), 400, 'XDSRepositoryMetadataError');
    });
    it('JSON nested deeper than fhir.maxJsonDepth → 400, before it is parsed', async () => {
      expectOutcome(await fhirPost(base, `${'['.repeat(5000)}${']'.repeat(5000)}`), 400, 'XDSRegistryMetadataError');
    });
    it('XML → 415; _format=xml or Accept FHIR XML only → 406', async () => {
      expectOutcome(await call(base, { method: 'POST', headers: { 'content-type': 'application/fhir+xml' }, body: '<Bundle xmlns="http://hl7.org/fhir"/>' }), 415);
      expectOutcome(await call(`${base}/DocumentReference?${patientOf(NHN_FNR)}&status=current&_format=xml`), 406);
      expectOutcome(await call(`${base}/metadata`, { headers: { accept: 'application/fhir+xml' } }), 406);
      expect((await call(`${base}/metadata?_format=json`)).status).to.equal(200);
    });
    it('unknown paths → 404, another method → 405 with Allow', async () => {
      expectOutcome(await call(`${base}/Patient`), 404);
      expectOutcome(await call(`${base}/DocumentReference/x/y`), 404);
      const del = await call(`${base}/DocumentReference/${NHN_DOC_UUID}`, { method: 'DELETE' });
      expectOutcome(del, 405);
      expect(del.headers.get('allow')).to.equal('GET');
      expect((await call(base)).headers.get('allow')).to.equal('POST');
    });
    it('an unknown search parameter → 400, ignored with a warning under Prefer: handling=lenient', async () => {
      const query = `${base}/DocumentReference?${patientOf(NHN_FNR)}&status=current&colour=red`;
      expectOutcome(await call(query), 400, 'InvalidRequestException');
      const lenient = await call(query, { headers: { prefer: 'handling=lenient' } });
      expect(lenient.status).to.equal(200);
      expect(lenient.json.total).to.equal(2);
      expect(lenient.json.link[0].url).to.not.contain('colour');
      const outcome = (lenient.json.entry as Json[]).find((e) => e.search.mode === 'outcome');
      expect(JSON.stringify(outcome)).to.contain('colour');
    });
    it('a search without patient or status → 400 XDSStoredQueryMissingParam; a bad date → 400', async () => {
      expectOutcome(await call(`${base}/DocumentReference?status=current`), 400, 'XDSStoredQueryMissingParam');
      expectOutcome(await call(`${base}/DocumentReference?${patientOf(NHN_FNR)}`), 400, 'XDSStoredQueryMissingParam');
      expectOutcome(await call(`${base}/List?${patientOf(NHN_FNR)}&status=current`), 400, 'XDSStoredQueryMissingParam');
      expectOutcome(await call(`${base}/DocumentReference?${patientOf(NHN_FNR)}&status=current&date=yesterday`), 400);
    });
    it('a read of an unknown DocumentReference → 404', async () => {
      expectOutcome(await call(`${base}/DocumentReference/${randomUUID()}`), 404, 'XDSDocumentUniqueIdError');
      expectOutcome(await call(`${base}/DocumentReference/not-a-uuid`), 404, 'XDSDocumentUniqueIdError');
    });
    it('ITI-68 of an unknown document → 404 XDSDocumentUniqueIdError; another repository → 404 XDSUnknownRepositoryId; a bad parameter → 400', async () => {
      expectOutcome(await call(`${base}/Binary/1.2.3.4.5?repositoryUniqueId=${node.config.repository.repositoryUniqueId}`), 404, 'XDSDocumentUniqueIdError');
      expectOutcome(await call(`${base}/Binary/${NHN_DOC_UID}?repositoryUniqueId=1.2.3`), 404, 'XDSUnknownRepositoryId');
      expectOutcome(await call(`${base}/Binary/${NHN_DOC_UID}?colour=red`), 400, 'InvalidRequestException');
    });
  });

  describe('the audit: MHD events of the same kind as their SOAP counterparts', () => {
    /** What kind of event a stored FHIR AuditEvent is: everything but the values that differ per request. */
    const kind = (resource: string) => {
      const e = JSON.parse(resource) as Json;
      return {
        type: e.type,
        subtypeSystem: e.subtype.map((s: Json) => s.system),
        action: e.action,
        outcome: e.outcome,
        agents: e.agent.map((a: Json) => ({ type: a.type, requestor: a.requestor })),
        entities: e.entity.map((x: Json) => ({ type: x.type, role: x.role, query: x.query !== undefined, detail: (x.detail ?? []).map((d: Json) => d.type) })),
      };
    };
    const last = (transaction: string) => auditRows(node.dataDir).filter((r) => r.access.transaction === transaction).at(-1)!;
    const subtype = (resource: string) => (JSON.parse(resource) as Json).subtype.map((s: Json) => s.code);

    it('an ITI-67 search is a Query event like ITI-18, naming ITI-67, with the patient and the search as the query', async () => {
      await call(`${base}/DocumentReference?${patientOf(NHN_FNR)}&status=current`);
      await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, findDocumentsBody(cx(NHN_FNR)));
      const mhd = last('ITI-67');
      const soap = last('ITI-18');
      expect(kind(mhd.resource)).to.deep.equal(kind(soap.resource));
      expect(subtype(mhd.resource)).to.deep.equal(['ITI-67']);
      expect(subtype(soap.resource)).to.deep.equal(['ITI-18']);
      expect(mhd.patientId).to.equal(soap.patientId);
      const query = (JSON.parse(mhd.resource) as Json).entity.find((x: Json) => x.query !== undefined);
      expect(Buffer.from(query.query, 'base64').toString('utf8')).to.equal(`DocumentReference?${new URLSearchParams(`${patientOf(NHN_FNR)}&status=current`).toString()}`);
      // The stored query it ran as is named, as for ITI-18.
      expect(query.what.identifier.value).to.equal('urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d');
    });

    it('an ITI-68 retrieve is an Export event like ITI-43; an ITI-65 submission an Import like ITI-41', async () => {
      await bytesOf(`${base}/Binary/${NHN_DOC_UID}?repositoryUniqueId=${node.config.repository.repositoryUniqueId}`);
      await postSoap(`${node.url}/xds/repository`, ACTIONS.iti43.request, retrieveBody([{ repository: node.config.repository.repositoryUniqueId, document: NHN_DOC_UID }]));
      expect(kind(last('ITI-68').resource)).to.deep.equal(kind(last('ITI-43').resource));
      expect(last('ITI-68').access.documents).to.deep.equal([NHN_DOC_UID]);
      // One document each way, so that both events list the same kinds of entities.
      const { xml } = epikrise({ forRepository: true });
      await postSoap(`${node.url}/xds/repository`, ACTIONS.iti41.request, provideBody(xml, [{ id: 'Document01', bytes: Buffer.from('x') }]));
      expect((await fhirPost(base, variant())).status).to.equal(200);
      const successes = (t: string) => auditRows(node.dataDir).filter((r) => r.access.transaction === t && r.access.outcome === 'success').at(-1)!;
      expect(kind(successes('ITI-65').resource)).to.deep.equal(kind(successes('ITI-41').resource));
      expect(subtype(successes('ITI-65').resource)).to.deep.equal(['ITI-65']);
    });

    it('a refused Bundle is audited as a failed ITI-65', async () => {
      const before = auditRows(node.dataDir).length;
      await fhirPost(base, { resourceType: 'Patient' });
      const rows = auditRows(node.dataDir).slice(before);
      expect(rows.map((r) => [r.access.transaction, r.access.outcome])).to.deep.equal([['ITI-65', 'failure']]);
    });
  });

  describe('CapabilityStatement', () => {
    it('GET metadata: valid FHIR R4, JSON only, what is served', async () => {
      const res = await call(`${base}/metadata`);
      expect(res.status).to.equal(200);
      const cs = res.json;
      expect(validateFhirResource(cs)).to.deep.equal([]);
      expect(cs.fhirVersion).to.equal('4.0.1');
      expect(cs.format).to.deep.equal(['application/fhir+json', 'json']);
      const rest = cs.rest[0];
      expect(rest.interaction).to.deep.equal([{ code: 'transaction', documentation: rest.interaction[0].documentation }]);
      expect(rest.resource.map((r: Json) => [r.type, r.interaction.map((i: Json) => i.code)])).to.deep.equal([
        ['DocumentReference', ['read', 'search-type']],
        ['List', ['search-type']],
        ['Binary', ['read']],
      ]);
      expect(rest.security).to.equal(undefined);
    });
  });
});

describe('MHD over HTTP: limits and internal errors', function () {
  this.timeout(60_000);
  let node: TestNode;
  before(async () => {
    // A registry port that fails as a bug would: the answer must say nothing of it.
    const failing = (port: RegistryPort): RegistryPort => ({
      ...port,
      documentEntries: (ids) => port.documentEntries(ids),
      register: async () => {
        throw new Error('SECRET internal detail /srv/kp/registry.sqlite');
      },
    });
    const { startNode } = await import('../../connector/node.js');
    const { parseConfig } = await import('../../connector/config.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDir = mkdtempSync(join(tmpdir(), 'kp-fhir-'));
    const started = await startNode(
      parseConfig({ port: 0, host: '127.0.0.1', dataDir, silent: true, registry: { patientIds: { acceptSyntheticNorwegianIds: true } }, fhir: { maxRequestBytes: 8192, path: '/mhd' } }),
      { wrapRegistryPort: failing },
    );
    node = { ...started, dataDir, close: async (o) => { await started.close(o); rmSync(dataDir, { recursive: true, force: true }); } };
  });
  after(async () => node?.close());

  it('a body over fhir.maxRequestBytes → 413 OperationOutcome, refused by its Content-Length', async () => {
    const res = await fhirPost(`${node.url}/mhd`, nhnBundle());
    expectOutcome(res, 413);
    expect(res.json.issue[0].code).to.equal('too-long');
  });

  it('an unexpected failure below → 5xx OperationOutcome without internals, and the path is fhir.path', async () => {
    const small = nhnBundle();
    // Small enough for this node's limit: the document is one byte.
    small.entry[3].resource.data = Buffer.from('x').toString('base64');
    const dr = small.entry[2].resource;
    delete dr.content[0].attachment.size;
    delete dr.content[0].attachment.hash;
    dr.contained = [];
    dr.author = [];
    const res = await fhirPost(`${node.url}/mhd`, small);
    expect(res.status, JSON.stringify(res.json)).to.be.within(500, 599);
    expect(res.json.resourceType).to.equal('OperationOutcome');
    expect(JSON.stringify(res.json)).to.not.contain('SECRET');
    expect(JSON.stringify(res.json)).to.not.contain('/srv/kp');
    expect((await call(`${node.url}/fhir/metadata`)).status).to.equal(404);
  });
});

describe('MHD across communities (XCA behind MHD)', function () {
  this.timeout(60_000);
  const REMOTE_HOME = 'urn:oid:2.16.578.1.12.4.5.100.2';
  let remote: TestNode;
  let local: TestNode;

  before(async () => {
    remote = await startTestNode({ homeCommunityId: REMOTE_HOME, repository: { repositoryUniqueId: '2.16.578.1.12.4.5.100.2.1' }, registry: { patientIds: { acceptSyntheticNorwegianIds: true } } });
    const xca = `${remote.url}/xca/responding`;
    local = await startTestNode({
      registry: { patientIds: { acceptSyntheticNorwegianIds: true } },
      gateway: { communities: [{ homeCommunityId: REMOTE_HOME, queryUrl: xca, retrieveUrl: xca }] },
    });
    expect((await fhirPost(`${remote.url}/fhir`, nhnBundle())).status).to.equal(200);
    expect((await fhirPost(`${local.url}/fhir`, variant())).status).to.equal(200);
  });
  after(async () => {
    await local?.close();
    await remote?.close();
  });

  it("finds the other community's documents beside its own (ITI-67 fanned out as ITI-38), and retrieves them (ITI-68 as ITI-39)", async () => {
    const found = await call(`${local.url}/fhir/DocumentReference?${patientOf(NHN_FNR)}&status=current`);
    expect(found.status, JSON.stringify(found.json)).to.equal(200);
    expect(found.json.total).to.equal(2);
    const theirs = (found.json.entry as Json[]).find((e) => e.resource.id === NHN_DOC_UUID)!.resource;
    expect(theirs.extension.find((x: Json) => /homeCommunityId$/i.test(x.url)).valueOid).to.equal(REMOTE_HOME);
    const url = theirs.content[0].attachment.url as string;
    expect(url).to.equal(`${local.url}/fhir/Binary/${NHN_DOC_UID}?repositoryUniqueId=2.16.578.1.12.4.5.100.2.1&homeCommunityId=${encodeURIComponent(REMOTE_HOME)}`);
    const bytes = await bytesOf(url);
    expect(bytes.status).to.equal(200);
    expect(bytes.bytes.equals(Buffer.from(nhnBundle().entry[3].resource.data as string, 'base64'))).to.equal(true);
    const ranged = await bytesOf(url, { range: 'bytes=0-4' });
    expect(ranged.status).to.equal(206);
    expect(ranged.bytes.toString()).to.equal('<?xml');
    // The outbound calls are audited on this side, as for the initiating gateway's SOAP consumers.
    const outbound = auditRows(local.dataDir).filter((r) => r.access.transaction === 'ITI-38' || r.access.transaction === 'ITI-39');
    expect(outbound.map((r) => r.access.transaction).sort()).to.deep.equal(['ITI-38', 'ITI-39', 'ITI-39']);
  });

  it('counts MHD requests on /metrics, by transaction and outcome', async () => {
    const text = await (await fetch(`${local.url}/metrics`)).text();
    expect(text).to.match(/koblingspunkt_requests_total\{endpoint="fhir",transaction="ITI-67",outcome="success"\} [1-9]/);
    expect(text).to.match(/koblingspunkt_requests_total\{endpoint="fhir",transaction="ITI-68",outcome="success"\} [1-9]/);
  });
});

describe('MHD searchset written in pieces', () => {
  it('is byte for byte the mapping\'s Bundle, also from the kept texts and with relations and warnings', () => {
    const frozen = Object.freeze(fullDocumentEntry());
    const other = Object.freeze({ ...canonicalDocumentEntry(), entryUuid: 'urn:uuid:22222222-3333-4444-8555-666666666666' });
    const options = {
      baseUrl: 'https://kp.example.no/fhir',
      selfUrl: 'https://kp.example.no/fhir/DocumentReference?status=current',
      warnings: [mhdWarning('InvalidRequestException', 'colour', 'colour is not supported and was ignored', 'not-supported')],
      relations: relations(),
      documentUrl: (e: DocumentEntry) => `https://kp.example.no/fhir/Binary/${e.uniqueId ?? ''}`,
    };
    const expected = JSON.stringify(documentReferenceSearchBundle([frozen, other], options));
    for (let i = 0; i < 2; i++) expect(Buffer.concat(documentReferenceSearchsetJson([frozen, other], options)).toString('utf8')).to.equal(expected);
    const none = { ...options, warnings: [], relations: [] };
    expect(Buffer.concat(documentReferenceSearchsetJson([], none)).toString('utf8')).to.equal(JSON.stringify(documentReferenceSearchBundle([], none)));
    // Another base URL is not answered from the text kept for the first.
    const elsewhere = { ...options, baseUrl: 'http://127.0.0.1:8080/fhir', documentUrl: (e: DocumentEntry) => `http://127.0.0.1:8080/fhir/Binary/${e.uniqueId ?? ''}` };
    expect(Buffer.concat(documentReferenceSearchsetJson([frozen, other], elsewhere)).toString('utf8')).to.equal(JSON.stringify(documentReferenceSearchBundle([frozen, other], elsewhere)));
  });
});
