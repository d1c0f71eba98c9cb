/**
 * Where the CPU of a multi-process node goes (issue 19): a node over a fresh data directory in a
 * child process (server.ts, as `npm run bench` starts it), one line of load from this process, and
 * the CPU ms per request of each of the node's processes: the primary (which decides every registry
 * write) and each worker, beside the total.
 *
 *   tsx scripts/bench/processes.ts [--processes 2] [--line iti42|iti18] [--requests 3000] [--clients 32] [--profile DIR]
 *
 * --profile writes a V8 CPU profile of every process of the node into DIR and prints a summary of each.
 *
 * The iti18 line first registers 40 one-document submissions for one patient and then asks
 * FindDocuments for that patient. Figures are from /proc (Linux) and process.cpuUsage().
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, fetch } from 'undici';
import { startChild } from './children.js';
import { formatSummary, profileClockUs, summarise } from './profile.js';
import { ACTIONS } from '../../connector/soap/actions.js';
import { NS } from '../../registry/xml/namespaces.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { EPIKRISE_ITI42 } from '../../fixtures/index.js';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '2' },
    line: { type: 'string', default: 'iti42' },
    requests: { type: 'string', default: '3000' },
    clients: { type: 'string', default: '32' },
    profile: { type: 'string' },
  },
});
const processes = Number(values.processes);
const requests = Number(values.requests);
const clients = Number(values.clients);
const PATIENT = '13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO';

let n = 0;
const uid = () => `2.16.578.1.12.4.5.100.1.9.${process.pid}.${Date.now()}.${++n}`;
const template = readFileSync(EPIKRISE_ITI42, 'utf8').replace(/^<\?xml[^>]*>\s*/, '').replace(/<!--[\s\S]*?-->\s*/, '');
const now = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const iti42 = () => template.replaceAll('$PATIENT$', PATIENT).replaceAll('$DOC_UID$', uid()).replaceAll('$SS_UID$', uid()).replaceAll('$NOW$', now);
const iti18 = () =>
  `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}"><query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>` +
  `<rim:AdhocQuery id="${STORED_QUERY_ID.FindDocuments}"><rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'${PATIENT}'</rim:Value></rim:ValueList></rim:Slot>` +
  `<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>`;

function envelope(action: string, to: string, body: string): string {
  return (
    `<soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}"><soap:Header><wsa:Action soap:mustUnderstand="1">${action}</wsa:Action>` +
    `<wsa:MessageID>urn:uuid:${crypto.randomUUID()}</wsa:MessageID><wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsa:To soap:mustUnderstand="1">${to}</wsa:To></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

function children(root: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out.sort((a, b) => a - b);
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const dataDir = mkdtempSync(join(tmpdir(), 'kp-processes-'));
const node = await startChild(['node', dataDir, 'warn', String(processes)], values.profile !== undefined ? { cpuProfileDir: values.profile } : {});
const url = `${node.url}/xds/registry`;
const agent = new Agent({ connections: clients, keepAliveTimeout: 60_000 });
const post = async (action: string, body: string): Promise<string> => {
  const res = await fetch(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': `application/soap+xml; charset=utf-8; action="${action}"` }, body: envelope(action, url, body) });
  return res.text();
};
const line = values.line === 'iti18' ? { action: ACTIONS.iti18.request, body: iti18 } : { action: ACTIONS.iti42.request, body: iti42 };
if (values.line === 'iti18') for (let i = 0; i < 40; i++) await post(ACTIONS.iti42.request, iti42());

const run = async (count: number): Promise<number> => {
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        next++;
        const text = await post(line.action, line.body());
        if (!text.includes('ResponseStatusType:Success')) failures++;
      }
    }),
  );
  return failures;
};
await run(Math.min(500, requests)); // warm-up
const workers = processes > 1 ? children(node.pid) : [];
const before = { primary: cpuMs(node.pid), workers: workers.map(cpuMs) };
const started = Date.now();
const windowStart = profileClockUs();
const failures = await run(requests);
const window = { fromUs: windowStart, toUs: profileClockUs() };
const seconds = (Date.now() - started) / 1000;
const primary = (cpuMs(node.pid) - before.primary) / requests;
const perWorker = workers.map((p, i) => (cpuMs(p) - before.workers[i]!) / requests);
const total = primary + perWorker.reduce((a, b) => a + b, 0);
process.stdout.write(
  `${values.line} processes=${processes}: ${(requests / seconds).toFixed(0)} req/s, ${failures} failures; CPU ms/req total ${total.toFixed(2)}` +
    (processes > 1 ? ` = primary ${primary.toFixed(2)} + workers ${perWorker.map((w) => w.toFixed(2)).join(' + ')}` : '') +
    `\n`,
);
await agent.close();
await node.stop();
rmSync(dataDir, { recursive: true, force: true });
if (values.profile !== undefined) {
  // Workers exit a moment after the primary's stop returns.
  await new Promise((r) => setTimeout(r, 2000));
  // The main thread's profile of each process (thread 0); the others are the module loader's.
  for (const file of readdirSync(values.profile).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))) {
    process.stdout.write(`\n## ${file}\n${formatSummary(summarise(JSON.parse(readFileSync(join(values.profile, file), 'utf8')) as Parameters<typeof summarise>[0], window), 25)}\n`);
  }
}
