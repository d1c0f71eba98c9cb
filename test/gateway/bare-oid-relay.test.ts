/**
 * A community that names itself by a bare OID (some peers write HomeCommunityId without
 * `urn:oid:`) is relayed by the initiating gateway in the urn:oid form, in query answers
 * and in retrieve answers alike.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InitiatingGateway } from '../../connector/gateway/initiating.js';
import { Limiter } from '../../connector/gateway/limiter.js';
import { remoteCommunity } from '../../connector/gateway/remote.js';
import { ACTIONS } from '../../connector/soap/actions.js';
import { SoapClient } from '../../connector/soap/client.js';
import { buildEnvelope, soapContentType } from '../../connector/soap/response.js';
import { documentBytes } from '../../connector/transactions/retrieve-wire.js';
import { STORED_QUERY_ID, type StoredQueryRequest } from '../../registry/model/query.js';
import { documentEntry } from '../query/fixtures.js';
import { startPeer, type Peer } from './helpers.js';

const PID = '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';
const BARE = '1.2.3.9';
const URN = `urn:oid:${BARE}`;

/** Answers every ITI-39 with one inline document whose HomeCommunityId is the bare OID. */
async function bareRetrievePeer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const relatesTo = /<(?:\w+:)?MessageID>([^<]+)</.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
      const body =
        `<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007" xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0">` +
        `<rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>` +
        `<xdsb:DocumentResponse><xdsb:HomeCommunityId>${BARE}</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>1.2.3.9.1</xdsb:RepositoryUniqueId>` +
        `<xdsb:DocumentUniqueId>13fa8361-dd8f-43fd-a33c-93f3237306c3</xdsb:DocumentUniqueId><xdsb:mimeType>text/plain</xdsb:mimeType>` +
        `<xdsb:Document>${Buffer.from('hei').toString('base64')}</xdsb:Document></xdsb:DocumentResponse></xdsb:RetrieveDocumentSetResponse>`;
      const env = buildEnvelope({ action: ACTIONS.iti39.response, relatesTo, body });
      res.writeHead(200, { 'content-type': soapContentType(ACTIONS.iti39.response) }).end(env.xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/xca/responding`,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

describe('gateway: bare-OID communities are relayed as urn:oid', () => {
  const client = new SoapClient();
  const peers: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    await client.close();
    await Promise.all(peers.map((p) => p.close()));
  });

  it('query: the objects carry urn:oid homes', async () => {
    const peer: Peer = await startPeer({ kind: 'answer', objects: [documentEntry(PID, { homeCommunityId: BARE })] });
    peers.push(peer);
    const gw = new InitiatingGateway({ communities: [remoteCommunity({ homeCommunityId: BARE, queryUrl: peer.url, timeoutMs: 2_000, client })], limiter: new Limiter(4) });
    const query: StoredQueryRequest = {
      queryId: STORED_QUERY_ID.FindDocuments,
      returnType: 'LeafClass',
      parameters: [
        { name: '$XDSDocumentEntryPatientId', values: [`'${PID}'`] },
        { name: '$XDSDocumentEntryStatus', values: ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"] },
      ],
    };
    const result = await gw.query(query);
    expect(result.status).to.equal('Success');
    expect(result.objects.map((o) => o.homeCommunityId)).to.deep.equal([URN]);
  });

  it('retrieve: the document carries the urn:oid home', async () => {
    const peer = await bareRetrievePeer();
    peers.push(peer);
    const gw = new InitiatingGateway({
      communities: [remoteCommunity({ homeCommunityId: BARE, queryUrl: peer.url, retrieveUrl: peer.url, timeoutMs: 2_000, client })],
      limiter: new Limiter(4),
    });
    const result = await gw.retrieve([{ homeCommunityId: URN, repositoryUniqueId: '1.2.3.9.1', documentUniqueId: '13fa8361-dd8f-43fd-a33c-93f3237306c3' }]);
    expect(result.status).to.equal('Success');
    expect(result.documents.map((d) => d.homeCommunityId)).to.deep.equal([URN]);
    expect((await documentBytes(result.documents[0]!)).toString()).to.equal('hei');
  });
});
