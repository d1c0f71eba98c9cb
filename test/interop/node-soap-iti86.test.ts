/**
 * Interop for ITI-86: node-soap (its own WSDL/XSD reader, serializer and HTTP) loads the repository
 * WSDL from the node, finds the RemoveDocuments operation and the RMD schema it imports, builds the
 * rmd:RemoveDocumentsRequest from JSON and reads the rs:RegistryResponse back. Documents are put in
 * with the test client's ITI-41 (test/repository/client.ts); node-soap only removes.
 */
import { expect } from 'chai';
import * as soap from 'soap';
import { epikrise, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { provideInline, retrieve } from '../repository/client.js';
import { clientFor } from './node-soap-client.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
const REPO = '2.16.578.1.12.4.5.100.1.2';
const SUCCESS = 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success';
const PARTIAL = 'urn:ihe:iti:2007:ResponseStatusType:PartialSuccess';

type Json = Record<string, unknown>;
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const attrs = (o: unknown): Record<string, string> => ((o as Json | undefined)?.attributes ?? {}) as Record<string, string>;

describe('interop: node-soap removes documents (ITI-86)', function () {
  this.timeout(20_000);
  let node: TestNode;
  let url: string;
  let client: soap.Client;
  const fetched: string[] = [];

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME, repository: { repositoryUniqueId: REPO } });
    url = `${node.url}/xds/repository`;
    const made = await clientFor(`${url}?wsdl`);
    client = made.client;
    fetched.push(...made.fetched);
  });
  after(async () => node?.close());

  async function register(): Promise<string> {
    const sub = epikrise({ forRepository: true });
    const res = await provideInline(url, sub.xml, [{ id: 'Document01', bytes: Buffer.from(`epikrise ${sub.docUid}`) }]);
    expect(status(res.body)).to.equal('Success');
    return sub.docUid;
  }

  /**
   * One xds:DocumentRequest, in plain JSON: the RMD schema refers to the global xds:DocumentRequest
   * element, whose children node-soap qualifies correctly (unlike the anonymous local DocumentRequest
   * of RetrieveDocumentSetRequest, see node-soap.test.ts).
   */
  const documentRequest = (docUid: string): Json => ({ RepositoryUniqueId: REPO, DocumentUniqueId: docUid });

  const removeDocuments = (documents: readonly string[]): Promise<[Json, string]> =>
    client.DocumentRepository_RemoveDocumentsAsync({ DocumentRequest: documents.map(documentRequest) }) as Promise<[Json, string]>;

  it('the repository WSDL offers RemoveDocuments with its WS-Addressing action, and imports the RMD schema from the node', () => {
    const operations = Object.keys(client.describe().DocumentRepository_Service.DocumentRepository_Port_Soap12);
    expect(operations).to.include('DocumentRepository_RemoveDocuments');
    const names = fetched.map((u) => u.slice(u.indexOf('?xsd=') + 5));
    expect(names).to.include('rmd.xsd');
    for (const u of fetched) expect(u.startsWith(`${url}?xsd=`)).to.equal(true);
  });

  it('removes two documents in one request: Success, and ITI-43 no longer finds them', async () => {
    const a = await register();
    const b = await register();
    const [result] = await removeDocuments([a, b]);
    expect(client.lastRequest).to.contain('soap:mustUnderstand="true">urn:ihe:iti:2017:RemoveDocuments</wsa:Action>');
    expect(client.lastRequest).to.match(/<rmd:RemoveDocumentsRequest [^>]*><xds:DocumentRequest xmlns:xds="urn:ihe:iti:xds-b:2007"><xds:RepositoryUniqueId>/);
    expect(attrs(result).status).to.equal(SUCCESS);
    for (const d of [a, b]) {
      const res = await retrieve(url, [{ repositoryUniqueId: REPO, documentUniqueId: d }]);
      expect(status(res.body)).to.equal('Failure');
    }
  });

  it('a known and an unknown document: PartialSuccess with XDSDocumentUniqueIdError, read by node-soap', async () => {
    const known = await register();
    const unknown = uid();
    const [result] = await removeDocuments([known, unknown]);
    expect(attrs(result).status).to.equal(PARTIAL);
    const errors = asArray((result.RegistryErrorList as Json | undefined)?.RegistryError).map((e) => [attrs(e).errorCode, attrs(e).location]);
    expect(errors).to.deep.equal([['XDSDocumentUniqueIdError', unknown]]);
  });
});
