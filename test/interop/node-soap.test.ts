/**
 * Interop: node-soap (an independent SOAP stack: its own WSDL/XSD reader, XML serializer, HTTP and
 * MIME code) as the client of a running node. It loads the repository and registry WSDLs from the
 * node itself, builds every request from JSON through the schemas those WSDLs import, and sends:
 * ITI-41 (MTOM and inline base64), ITI-43 (the node answers MTOM; node-soap splits it) and ITI-18.
 * Nothing from the project is on the sending or receiving side except what starts the node.
 */
import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import * as soap from 'soap';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { clientFor } from './node-soap-client.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
const REPO = '2.16.578.1.12.4.5.100.1.2';
/** A synthetic test person with a valid fødselsnummer (check digits), Norwegian F-number authority. */
const KARI = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
const XOP = 'http://www.w3.org/2004/08/xop/include';
const SUCCESS = 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success';
const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');
let counter = 0;
const uid = (): string => `2.16.578.1.12.4.5.100.1.9.${Date.now()}.${++counter}`;

/** node-soap's JSON for XML: attributes under `attributes`, text under `$value`, raw XML under `$xml`. */
type Json = Record<string, unknown>;
const slot = (name: string, ...values: string[]): Json => ({ attributes: { name }, ValueList: { Value: values } });
const named = (value: string): Json => ({ LocalizedString: { attributes: { value } } });
const classification = (id: string, scheme: string, object: string, code: string, codingScheme: string, display: string): Json => ({
  attributes: { id, classificationScheme: `urn:uuid:${scheme}`, classifiedObject: object, nodeRepresentation: code },
  Slot: [slot('codingScheme', codingScheme)],
  Name: named(display),
});
const externalId = (id: string, scheme: string, object: string, value: string, name: string): Json => ({
  attributes: { id, identificationScheme: `urn:uuid:${scheme}`, registryObject: object, value },
  Name: named(name),
});

/**
 * The Norwegian epikrise of fixtures/messages/iti42-norwegian-epikrise.xml as node-soap JSON (Volven
 * codes 9602/9603/9604/1303/8655, HPR author, org.nr institution), without hash, size and
 * repositoryUniqueId: the repository fills those in.
 */
function submitObjectsRequest(docUid: string, mimeType: string): Json {
  const doc = 'Document01';
  const ss = 'SubmissionSet01';
  const institution = 'Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880';
  return {
    RegistryObjectList: {
      ExtrinsicObject: {
        attributes: { id: doc, mimeType, objectType: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1' },
        Slot: [
          slot('creationTime', '20261120101500'),
          slot('languageCode', 'nb-NO'),
          slot('serviceStartTime', '20261115'),
          slot('serviceStopTime', '20261119'),
          slot('sourcePatientId', KARI),
          slot('sourcePatientInfo', 'PID-5|Testesen^Kari', 'PID-8|F'),
          slot('urn:no:nhn:xds:extra:department', 'Indremedisinsk avdeling'),
        ],
        Name: { LocalizedString: { attributes: { 'xml:lang': 'nb-NO', charset: 'UTF-8', value: 'Epikrise indremedisin' } } },
        Classification: [
          {
            attributes: { id: 'cl01', classificationScheme: 'urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d', classifiedObject: doc, nodeRepresentation: '' },
            Slot: [
              slot('authorPerson', '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO'),
              slot('authorInstitution', institution),
              slot('authorRole', 'LE'),
            ],
          },
          classification('cl02', '41a5887f-8865-4c09-adf7-e362475b143a', doc, 'A00-1', '2.16.578.1.12.4.1.1.9602', 'Epikriser og sammenfatninger'),
          classification('cl03', 'f0306f51-975f-434e-a61c-c59651d33983', doc, 'A03-2', '2.16.578.1.12.4.1.1.9602', 'Epikrise'),
          classification('cl04', 'f4f85eac-e6cb-4883-b524-f2705394840f', doc, 'N', '2.16.578.1.12.4.1.1.9603', 'Normal'),
          classification('cl05', 'a09d5840-386c-46f2-b5ad-9c3699a4309d', doc, 'urn:no:ehelse:document:pdf', '2.16.578.1.12.4.1.1.9604', 'PDF'),
          classification('cl06', 'f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1', doc, '86.101', '2.16.578.1.12.4.1.1.1303', 'Somatisk sykehus'),
          classification('cl07', 'cccf5598-8b07-4b77-a05e-ae952c785ead', doc, 'S03', '2.16.578.1.12.4.1.1.8655', 'Indremedisin'),
        ],
        ExternalIdentifier: [
          externalId('ei01', '58a6f841-87b3-4a3e-92fd-a8ffeff98427', doc, KARI, 'XDSDocumentEntry.patientId'),
          externalId('ei02', '2e82c1f6-a085-4c72-9da3-8640a32e42ab', doc, docUid, 'XDSDocumentEntry.uniqueId'),
        ],
      },
      RegistryPackage: {
        attributes: { id: ss },
        Slot: [slot('submissionTime', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14))],
        Name: named('Utskrivning'),
        Classification: [
          {
            attributes: { id: 'cl08', classificationScheme: 'urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d', classifiedObject: ss, nodeRepresentation: '' },
            Slot: [slot('authorInstitution', institution)],
          },
          classification('cl09', 'aa543740-bdda-424e-8c96-df4873be8500', ss, 'A00-1', '2.16.578.1.12.4.1.1.9602', 'Epikriser og sammenfatninger'),
        ],
        ExternalIdentifier: [
          externalId('ei03', '96fdda7c-d067-4183-912e-bf5ee74998a8', ss, uid(), 'XDSSubmissionSet.uniqueId'),
          externalId('ei04', '554ac39e-e3fe-47fe-b233-965d2a147832', ss, '2.16.578.1.12.4.5.100.1.9', 'XDSSubmissionSet.sourceId'),
          externalId('ei05', '6b5aea1a-874d-4603-a4bc-96a0a7b38446', ss, KARI, 'XDSSubmissionSet.patientId'),
        ],
      },
      Classification: { attributes: { id: 'cl10', classifiedObject: ss, classificationNode: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd' } },
      Association: {
        attributes: {
          id: 'as01',
          associationType: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember',
          sourceObject: ss,
          targetObject: doc,
        },
        Slot: [slot('SubmissionSetStatus', 'Original')],
      },
    },
  };
}

/** A small PDF-looking document with every byte value and Norwegian UTF-8 text, so any re-encoding shows. */
function epikrise(): Buffer {
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  return Buffer.concat([
    Buffer.from('%PDF-1.4\n'),
    all,
    Buffer.from(`\nEpikrise for Kari Testesen – blåbærsyltetøy, Ærøy ${randomUUID()}\r\n\r\n--uuid:not-a-boundary\r\n`),
    all.reverse(),
    Buffer.from('\n%%EOF\n'),
  ]);
}

/** What node-soap hands back: [result, rawResponse, soapHeader, rawRequest, mtomAttachments]. */
type SoapAnswer = [Json, string, Json | undefined, string, soap.IMTOMAttachments | undefined];

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const attrs = (o: unknown): Record<string, string> => ((o as Json | undefined)?.attributes ?? {}) as Record<string, string>;
const errorCodes = (result: Json): string[] =>
  asArray((result.RegistryErrorList as Json | undefined)?.RegistryError).map((e) => attrs(e).errorCode!);

describe('interop: node-soap as the client of a node', function () {
  this.timeout(20_000);
  let node: TestNode;
  let repositoryUrl: string;
  let registryUrl: string;
  let repository: soap.Client;
  let registry: soap.Client;
  let fetched: string[];
  let repositoryMessageIds: string[];

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, repository: { repositoryUniqueId: REPO } });
    repositoryUrl = `${node.url}/xds/repository`;
    registryUrl = `${node.url}/xds/registry`;
    const repo = await clientFor(`${repositoryUrl}?wsdl`, { parseResponseAttachments: true });
    const reg = await clientFor(`${registryUrl}?wsdl`);
    repository = repo.client;
    registry = reg.client;
    fetched = [...repo.fetched, ...reg.fetched];
    repositoryMessageIds = repo.messageIds;
  });
  after(async () => node?.close());

  /** ITI-41 through node-soap; the metadata is serialized by node-soap from the imported XSDs. */
  function provide(docUid: string, document: Json, options: Json = {}): Promise<SoapAnswer> {
    return repository.DocumentRepository_ProvideAndRegisterDocumentSet_bAsync(
      { SubmitObjectsRequest: submitObjectsRequest(docUid, 'application/pdf'), Document: [document] },
      options,
    );
  }

  /**
   * One ihe:DocumentRequest. The keys carry the `ihe:` prefix because node-soap mis-serializes the
   * local elements of the XSD's anonymous DocumentRequest type: unprefixed it writes
   * `<ns1:RepositoryUniqueId>` without declaring ns1 (its long-standing "NS prefix" bug family), and
   * the node rightly answers a Sender fault for the malformed XML. node-soap writes a prefix given
   * in the key as it is (`ihe` is declared on its envelope from the WSDL).
   */
  function documentRequest(docUid: string, home?: string): Json {
    return {
      ...(home !== undefined ? { 'ihe:HomeCommunityId': home } : {}),
      'ihe:RepositoryUniqueId': REPO,
      'ihe:DocumentUniqueId': docUid,
    };
  }

  /** ITI-43 through node-soap; returns the document bytes node-soap found in the MTOM answer. */
  async function retrieveBytes(docUid: string): Promise<{ result: Json; header: Json | undefined; bytes: Buffer; mimeType: string; contentType: string }> {
    const [result, , header, , attachments] = (await repository.DocumentRepository_RetrieveDocumentSetAsync({
      DocumentRequest: [documentRequest(docUid, HOME)],
    })) as SoapAnswer;
    const contentType = String(repository.lastResponseHeaders?.['content-type'] ?? '');
    const response = asArray(result.DocumentResponse as Json | Json[])[0]!;
    // The Document element holds <xop:Include href="cid:…"/>; node-soap keeps it as a child object.
    const include = (response.Document as Json | undefined)?.Include;
    const href = attrs(include).href!;
    const cid = decodeURIComponent(href.replace(/^cid:/, ''));
    const part = attachments?.parts.find((p) => (p.headers['content-id'] ?? p.headers['Content-ID'] ?? '').replace(/^<|>$/g, '') === cid);
    if (!part) throw new Error(`no MTOM part for ${href} among ${JSON.stringify(attachments?.parts.map((p) => p.headers))}`);
    return { result, header, bytes: part.body, mimeType: String(response.mimeType), contentType };
  }

  it('loads both WSDLs from the node; the service addresses point at the node', () => {
    expect(Object.keys(repository.describe().DocumentRepository_Service.DocumentRepository_Port_Soap12)).to.deep.equal([
      'DocumentRepository_ProvideAndRegisterDocumentSet-b',
      'DocumentRepository_RetrieveDocumentSet',
      'DocumentRepository_RemoveDocuments',
    ]);
    expect(Object.keys(registry.describe().DocumentRegistry_Service.DocumentRegistry_Port_Soap12)).to.deep.equal([
      'DocumentRegistry_RegisterDocumentSet-b',
      'DocumentRegistry_RegistryStoredQuery',
      'DocumentRegistry_UpdateDocumentSet',
      'DocumentRegistry_DeleteDocumentSet',
      'DocumentRegistry_MultiPatientStoredQuery',
      'DocumentRegistry_RestrictedUpdateDocumentSet',
    ]);
    // node-soap keeps the parsed soap12:address on its (typed-private) services map; calls go there.
    type Services = Record<string, { ports: Record<string, { location: string }> }>;
    const services = (c: soap.Client): string[] =>
      Object.values((c.wsdl as unknown as { services: Services }).services).flatMap((s) => Object.values(s.ports).map((p) => p.location));
    expect(services(repository)).to.deep.equal([repositoryUrl]);
    expect(services(registry)).to.deep.equal([registryUrl]);
    // Every schema came from the node itself, at the endpoint's ?xsd= URLs.
    const names = [...new Set(fetched)].map((u) => {
      expect(u).to.match(new RegExp(`^${node.url.replace(/[.]/g, '\\.')}/xds/(repository|registry)\\?xsd=`));
      return u.slice(u.indexOf('?xsd=') + 5);
    });
    expect([...new Set(names)].sort()).to.include.members(['XDS.b_DocumentRepository.xsd', 'lcm.xsd', 'query.xsd', 'rim.xsd', 'rs.xsd']);
  });

  it('ITI-41 as MTOM from node-soap, ITI-43 back as MTOM: byte-identical, SOAP 1.2 with WS-Addressing', async () => {
    const bytes = epikrise();
    const docUid = uid();
    const cid = `${randomUUID()}@node-soap.example`;
    const [result] = await provide(
      docUid,
      { attributes: { id: 'Document01' }, $xml: `<xop:Include xmlns:xop="${XOP}" href="cid:${cid}"/>` },
      { forceMTOM: true, attachments: [{ mimetype: 'application/pdf', contentId: cid, name: 'epikrise.pdf', body: bytes }] },
    );
    expect(errorCodes(result)).to.deep.equal([]);
    expect(attrs(result).status).to.equal(SUCCESS);
    // What node-soap put on the wire: MTOM multipart with the SOAP 1.2 envelope and our WS-A headers.
    const sent = String(repository.lastRequestHeaders?.['Content-Type'] ?? '');
    // node-soap labels the package as SOAP 1.1 would (start-info and the root part's type are
    // "text/xml", not "application/soap+xml"); the node goes by the envelope's namespace and accepts it.
    expect(sent).to.match(/^multipart\/related; type="application\/xop\+xml"/);
    expect(repository.lastRequest).to.include(`<xop:Include xmlns:xop="${XOP}" href="cid:${cid}"/>`);
    expect(repository.lastRequest).to.include(`<soap:Envelope xmlns:soap="${SOAP12}"`);
    expect(repository.lastRequest).to.include('soap:mustUnderstand="true">urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b</wsa:Action>');

    const back = await retrieveBytes(docUid);
    // node-soap read the WS-Addressing answer out of the MTOM root part.
    expect((back.header?.Action as Json).$value).to.equal('urn:ihe:iti:2007:RetrieveDocumentSetResponse');
    expect(back.header?.RelatesTo).to.equal(repositoryMessageIds.at(-1));
    expect(back.contentType).to.match(/^multipart\/related;/);
    expect(back.mimeType).to.equal('application/pdf');
    expect(sha1(back.bytes)).to.equal(sha1(bytes));
    expect(back.bytes.equals(bytes)).to.equal(true);
  });

  it('ITI-41 with the document inline as base64 from node-soap, retrieved byte-identical', async () => {
    const bytes = epikrise();
    const docUid = uid();
    const [result] = await provide(docUid, { attributes: { id: 'Document01' }, $value: bytes.toString('base64') });
    expect(attrs(result).status).to.equal(SUCCESS);
    expect(String(repository.lastRequestHeaders?.['Content-Type'])).to.match(/^application\/soap\+xml; charset=utf-8; action="urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"/);
    const back = await retrieveBytes(docUid);
    expect(back.bytes.equals(bytes)).to.equal(true);
  });

  it('ITI-18 FindDocuments through the registry WSDL returns the entry with hash, size and repositoryUniqueId filled in', async () => {
    const bytes = epikrise();
    const docUid = uid();
    const [provided] = await provide(docUid, { attributes: { id: 'Document01' }, $value: bytes.toString('base64') });
    expect(attrs(provided).status).to.equal(SUCCESS);

    const [result] = (await registry.DocumentRegistry_RegistryStoredQueryAsync({
      ResponseOption: { attributes: { returnType: 'LeafClass', returnComposedObjects: 'true' } },
      AdhocQuery: {
        attributes: { id: FIND_DOCUMENTS },
        Slot: [
          slot('$XDSDocumentEntryPatientId', `'${KARI}'`),
          slot('$XDSDocumentEntryStatus', "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"),
          slot('$XDSDocumentEntryClassCode', "('A00-1^^2.16.578.1.12.4.1.1.9602')"),
        ],
      },
    })) as SoapAnswer;
    expect(registry.lastRequest).to.include('soap:mustUnderstand="true">urn:ihe:iti:2007:RegistryStoredQuery</wsa:Action>');
    expect(attrs(result).status).to.equal(SUCCESS);
    const entries = asArray((result.RegistryObjectList as Json).ExtrinsicObject as Json | Json[]);
    const entry = entries.find((e) =>
      asArray(e.ExternalIdentifier as Json | Json[]).some((x) => attrs(x).value === docUid),
    );
    expect(entry, `entry ${docUid} among ${entries.length}`).to.not.equal(undefined);
    const slots = new Map(
      asArray(entry!.Slot as Json | Json[]).map((s) => [attrs(s).name!, asArray((s.ValueList as Json).Value as string | string[])]),
    );
    expect(slots.get('hash')).to.deep.equal([sha1(bytes)]);
    expect(slots.get('size')).to.deep.equal([String(bytes.length)]);
    expect(slots.get('repositoryUniqueId')).to.deep.equal([REPO]);
    expect(slots.get('sourcePatientId')).to.deep.equal([KARI]);
    const patient = asArray(entry!.ExternalIdentifier as Json | Json[]).find(
      (x) => attrs(x).identificationScheme === 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427',
    );
    expect(attrs(patient).value).to.equal(KARI);
    const typeCode = asArray(entry!.Classification as Json | Json[]).find(
      (c) => attrs(c).classificationScheme === 'urn:uuid:f0306f51-975f-434e-a61c-c59651d33983',
    );
    expect(attrs(typeCode).nodeRepresentation).to.equal('A03-2');
    expect(attrs(entry).home).to.equal(HOME);
  });

  it('an unknown document comes back to node-soap as XDSDocumentUniqueIdError in the RegistryResponse', async () => {
    const [result] = (await repository.DocumentRepository_RetrieveDocumentSetAsync({
      DocumentRequest: [documentRequest(uid())],
    })) as SoapAnswer;
    const response = result.RegistryResponse as Json;
    expect(attrs(response).status).to.equal('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure');
    expect(errorCodes(response)).to.deep.equal(['XDSDocumentUniqueIdError']);
  });

  it('a SOAP 1.2 MustUnderstand fault from the node is parsed by node-soap', async () => {
    const foreign = '<x:Unknown xmlns:x="urn:example:not-understood" soap:mustUnderstand="true"/>';
    const err = (await repository
      .DocumentRepository_RetrieveDocumentSetAsync(
        { DocumentRequest: [documentRequest(uid())] },
        { postProcess: (xml: string) => xml.replace('</soap:Header>', `${foreign}</soap:Header>`) },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { root?: Json; response?: { status: number } } | undefined;
    expect(err, 'node-soap should reject with the fault').to.not.equal(undefined);
    expect(err!.response?.status).to.equal(500);
    const envelope = err!.root?.Envelope as Json;
    const fault = (envelope.Body as Json).Fault as Json;
    expect((fault.Code as Json).Value).to.equal('soap:MustUnderstand');
    expect(attrs((envelope.Header as Json).NotUnderstood).qname).to.match(/:Unknown$/);
  });
});
