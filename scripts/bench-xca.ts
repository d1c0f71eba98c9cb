/**
 * `npx tsx scripts/bench-xca.ts [--iterations 300] [--docs 10]`: what the initiating gateway's
 * fan-out costs. Five scripted communities on loopback answer FindDocuments after 5, 10, 15, 20
 * and 25 ms with `docs` DocumentEntries each. Measured, interleaved:
 *   direct  — one ITI-38 to the slowest community (SOAP client + parse), the floor any fan-out has;
 *   fan-out — InitiatingGateway.query over all five (limiter, deadlines, five parses, merge).
 * Reported: p50/p95 of both and the p50 difference (target ≤ 3 ms).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { InitiatingGateway } from '../connector/gateway/initiating.js';
import { Limiter } from '../connector/gateway/limiter.js';
import { remoteCommunity } from '../connector/gateway/remote.js';
import { ACTIONS } from '../connector/soap/actions.js';
import { SoapClient } from '../connector/soap/client.js';
import { buildEnvelope, soapContentType } from '../connector/soap/response.js';
import { adhocQueryResponse, parseAdhocQueryResponse, serializeAdhocQueryRequest } from '../registry/ebxml/index.js';
import { STORED_QUERY_ID, type StoredQueryRequest } from '../registry/model/query.js';
import { serializeXml } from '../registry/xml/serialize.js';
import { demoSubmission, DEMO_PATIENTS, patientCx } from './network/data.js';
import { DEMO_REGIONS } from './network/launch.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '300' }, docs: { type: 'string', default: '10' } } });
const ITERATIONS = Number(values.iterations);
const DOCS = Number(values.docs);
const DELAYS = [5, 10, 15, 20, 25];

const QUERY: StoredQueryRequest = {
  queryId: STORED_QUERY_ID.FindDocuments,
  returnType: 'LeafClass',
  parameters: [
    { name: '$XDSDocumentEntryPatientId', values: [`'${patientCx(DEMO_PATIENTS[0]!.fnr)}'`] },
    { name: '$XDSDocumentEntryStatus', values: ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"] },
  ],
};

async function peer(delayMs: number, home: string): Promise<{ url: string; server: Server }> {
  const { submission } = demoSubmission(
    DEMO_REGIONS[0]!,
    DEMO_PATIENTS[0]!,
    Array.from({ length: DOCS }, (_, i) => ({ title: `Dokument ${i}`, kind: 'notat' as const, text: `tekst ${i}` })),
  );
  const body = serializeXml(
    adhocQueryResponse({
      status: 'Success',
      errors: [],
      returnType: 'LeafClass',
      objects: submission.documentEntries.map((d) => ({ ...d, homeCommunityId: home })),
    }),
  );
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const relates = /<(?:\w+:)?MessageID>([^<]+)</.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
      const xml = buildEnvelope({ action: ACTIONS.iti38.response, relatesTo: relates, body }).xml;
      setTimeout(() => res.writeHead(200, { 'content-type': soapContentType(ACTIONS.iti38.response) }).end(xml), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/xca/responding`, server };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const peers = await Promise.all(DELAYS.map((d, i) => peer(d, `urn:oid:1.2.3.${i + 1}`)));
  const clients = peers.map(() => new SoapClient());
  const gateway = new InitiatingGateway({
    communities: peers.map((p, i) => remoteCommunity({ homeCommunityId: `urn:oid:1.2.3.${i + 1}`, queryUrl: p.url, timeoutMs: 5_000, client: clients[i]! })),
    limiter: new Limiter(64),
  });
  const direct = new SoapClient();
  const slowest = peers[peers.length - 1]!.url;
  const directCall = async (): Promise<void> => {
    const res = await direct.call({ url: slowest, action: ACTIONS.iti38.request, body: serializeAdhocQueryRequest({ ...QUERY, homeCommunityId: 'urn:oid:1.2.3.5' }), timeoutMs: 5_000 });
    parseAdhocQueryResponse(res.body);
  };
  const fanOut = async (): Promise<void> => {
    const r = await gateway.query(QUERY);
    if (r.objects.length !== DOCS * DELAYS.length) throw new Error(`fan-out returned ${r.objects.length} objects`);
  };
  for (let i = 0; i < 20; i++) {
    await directCall();
    await fanOut();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    let t = performance.now();
    await directCall();
    a.push(performance.now() - t);
    t = performance.now();
    await fanOut();
    b.push(performance.now() - t);
  }
  a.sort((x, y) => x - y);
  b.sort((x, y) => x - y);
  const f = (n: number): string => n.toFixed(2);
  console.log(`communities: ${DELAYS.length} (answering after ${DELAYS.join('/')} ms, ${DOCS} DocumentEntries each), iterations: ${ITERATIONS}`);
  console.log(`direct ITI-38 to the slowest   p50 ${f(percentile(a, 50))} ms  p95 ${f(percentile(a, 95))} ms`);
  console.log(`fan-out over all five          p50 ${f(percentile(b, 50))} ms  p95 ${f(percentile(b, 95))} ms`);
  console.log(`fan-out overhead               p50 ${f(percentile(b, 50) - percentile(a, 50))} ms (target ≤ 3 ms)`);
  await Promise.all([...clients, direct].map((c) => c.close()));
  for (const p of peers) {
    p.server.closeAllConnections();
    p.server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
