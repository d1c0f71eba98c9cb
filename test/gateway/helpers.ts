/** Scripted peer communities on loopback for the gateway tests (the request bodies are in test/helpers/ebxml.ts). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adhocQueryResponse } from '../../registry/ebxml/index.js';
import type { RegistryErrorInfo } from '../../registry/model/errors.js';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { buildEnvelope, soapContentType } from '../../connector/soap/response.js';
import { ACTIONS, answerEnvelope, faultBody } from '../helpers/soap.js';

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
        res.writeHead(500, { 'content-type': 'application/soap+xml' }).end(answerEnvelope(faultBody('Receiver', 'database down')));
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
