/** Shared pieces of the gateway tests: request bodies and scripted peer communities on loopback. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adhocQueryResponse } from '../../registry/ebxml/index.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import type { RegistryErrorInfo } from '../../registry/model/errors.js';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { buildEnvelope, soapContentType } from '../../connector/soap/response.js';
import { ACTIONS } from '../../connector/soap/actions.js';
import { patientCx } from '../../scripts/network/data.js';

export function findDocumentsXml(fnr: string, options: { returnType?: 'LeafClass' | 'ObjectRef'; home?: string } = {}): string {
  return (
    `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">` +
    `<query:ResponseOption returnType="${options.returnType ?? 'LeafClass'}" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="${STORED_QUERY_ID.FindDocuments}"${options.home !== undefined ? ` home="${options.home}"` : ''}>` +
    `<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'${patientCx(fnr).replace(/&/g, '&amp;')}'</rim:Value></rim:ValueList></rim:Slot>` +
    `<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>` +
    `</rim:AdhocQuery></query:AdhocQueryRequest>`
  );
}

export function getDocumentsXml(uuids: readonly string[], home?: string): string {
  return (
    `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">` +
    `<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="${STORED_QUERY_ID.GetDocuments}"${home !== undefined ? ` home="${home}"` : ''}>` +
    `<rim:Slot name="$XDSDocumentEntryEntryUUID"><rim:ValueList><rim:Value>(${uuids.map((u) => `'${u}'`).join(',')})</rim:Value></rim:ValueList></rim:Slot>` +
    `</rim:AdhocQuery></query:AdhocQueryRequest>`
  );
}

export function retrieveXml(requests: readonly { home?: string; repository: string; document: string }[]): string {
  return (
    `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">` +
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

/** A scripted community: answers every ITI-38 with what `behaviour` says. */
export type PeerBehaviour =
  | { kind: 'answer'; objects?: RegistryObject[]; errors?: RegistryErrorInfo[]; status?: 'Success' | 'Failure' | 'PartialSuccess' }
  /** Never answers; the pending request is dropped when the client goes away (no timer left behind). */
  | { kind: 'hang' }
  | { kind: 'fault' };

export interface Peer {
  readonly url: string;
  readonly received: () => number;
  /** The raw envelopes received (for checking forwarded headers). */
  readonly bodies: string[];
  close(): Promise<void>;
}

export async function startPeer(behaviour: PeerBehaviour): Promise<Peer> {
  let count = 0;
  const bodies: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      count++;
      if (bodies.length < 20) bodies.push(Buffer.concat(chunks).toString('utf8'));
      if (behaviour.kind === 'hang') return;
      if (behaviour.kind === 'fault') {
        const xml = `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><soap:Fault><soap:Code><soap:Value>soap:Receiver</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="en">database down</soap:Text></soap:Reason></soap:Fault></soap:Body></soap:Envelope>`;
        res.writeHead(500, { 'content-type': 'application/soap+xml' }).end(xml);
        return;
      }
      const errors = behaviour.errors ?? [];
      const body = adhocQueryResponse({
        status: behaviour.status ?? (errors.length > 0 ? 'Failure' : 'Success'),
        errors,
        returnType: 'LeafClass',
        objects: behaviour.objects ?? [],
      });
      const relates = /<(?:\w+:)?MessageID>([^<]+)</.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
      const env = buildEnvelope({ action: ACTIONS.iti38.response, relatesTo: relates, body: serializeXml(body) });
      res.writeHead(200, { 'content-type': soapContentType(ACTIONS.iti38.response) }).end(env.xml);
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/xca/responding`,
    received: () => count,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A URL on which nothing listens (a port taken and released). */
export async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}/xca/responding`;
}
