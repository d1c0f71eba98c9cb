/**
 * npm run bench:audit -- [--events 5000] [--in-flight 32] [--rounds 3] [--patients 1] [--store FILE]
 *
 * What recording one audit event costs the node, in this process: one `Auditor` over the
 * embedded audit store (SQLite) in a fresh temporary data directory, 200 warm-up events, then
 * `events` ITI-18 events with `in-flight` `record()` calls outstanding at a time (as concurrent
 * requests would issue them). `record()` resolves once the event is synced in the durable queue
 * and the inline append to the audit store has settled, so the figure is what a request waits for.
 *
 * Reports per round and the median: events/s (wall clock), CPU ms per event (`process.cpuUsage`,
 * user + system, all threads of the process), which hardly depends on the machine's other load,
 * and how long the event loop was held up (`monitorEventLoopDelay`, p99 and max): what every other
 * request of the node waits while the audit trail writes (a synchronous fsync shows here).
 * Every round must end with nothing pending in the queue, or the run fails.
 *
 * `--patients N` spreads the events over N patients (distinct valid fødselsnumre, in random order)
 * instead of one, as a region's traffic is; `--store FILE` starts each round from a copy of an
 * existing audit store (e.g. the one a long `npm run bench` left) instead of an empty one. The
 * two together show what an append costs once the patient index no longer fits in memory.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Auditor } from '../connector/audit/auditor.js';
import { auditEvents, type BaseAuditInput } from '../connector/audit/event.js';
import { openEmbeddedAuditStore } from '../connector/audit/store-embedded.js';
import { patientCx, uniqueFodselsnummer } from './generate/norway.js';
import { Random } from './generate/random.js';

const FIND_DOCUMENTS = 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d';

/** A realistic responder-side event: a Norwegian practitioner (synthetic test person) querying one patient. */
function input(): BaseAuditInput {
  return {
    side: 'responder',
    client: { userId: 'http://www.w3.org/2005/08/addressing/anonymous', networkAccessPoint: '10.1.2.3' },
    server: { userId: 'https://node.example.no/xds/registry', networkAccessPoint: 'node.example.no' },
    node: { id: 'urn:oid:2.16.578.1.12.4.5.100.1' },
    principal: {
      name: 'Ærlig Øvergård',
      userId: '13116900216',
      hpr: '502116685',
      organisation: { id: '983974880', name: 'Finnmarkssykehuset HF' },
      pointOfCare: { id: '4208723', name: 'Medisinsk avdeling, Hammerfest' },
      healthcareService: { code: 'S03', display: 'Indremedisin', system: 'urn:oid:2.16.578.1.12.4.1.1.8655' },
      purposeOfUse: { code: 'TREAT', display: 'Treatment', system: 'urn:oid:2.16.840.1.113883.1.11.20448' },
      decisionRef: 'b3f0e8a4-2d1c-4c55-9a7e-0f4c2b9d1e77',
      role: { code: 'LE', display: 'Lege', system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
    },
    patientId: '01017010170^^^&2.16.578.1.12.4.1.4.1&ISO',
    outcome: 'success',
  };
}

const event = (patientId: string) =>
  auditEvents.iti18({ ...input(), patientId, query: { storedQueryId: FIND_DOCUMENTS, text: '<AdhocQueryRequest/>' } });

interface Round {
  eventsPerS: number;
  cpuMsPerEvent: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

async function round(total: number, inFlight: number, patients: readonly string[], from: string | undefined): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'koblingspunkt-bench-audit-'));
  if (from !== undefined) copyFileSync(from, join(dir, 'audit.sqlite'));
  const store = openEmbeddedAuditStore({ path: join(dir, 'audit.sqlite') });
  const quiet = { warn: () => undefined, error: () => undefined };
  const auditor = new Auditor({ dataDir: dir, store, logger: quiet });
  try {
    const rnd = new Random(7, total);
    const patientEvent = () => event(rnd.pick(patients));
    for (let i = 0; i < 200; i++) await auditor.record(patientEvent());
    const events = Array.from({ length: total }, patientEvent);
    let next = 0;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < total) await auditor.record(events[next++]!);
      }),
    );
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    delay.disable();
    const pending = await auditor.pending();
    if (pending.pending !== 0 || pending.dead !== 0) throw new Error(`events left in the queue: ${JSON.stringify(pending)}`);
    return {
      eventsPerS: Math.round(total / (wallMs / 1000)),
      cpuMsPerEvent: (cpu.user + cpu.system) / 1000 / total,
      // The histogram counts from the 1 ms timer's due time, so its floor is ~1 ms.
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      loopDelayMaxMs: delay.max / 1e6,
    };
  } finally {
    await auditor.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    'in-flight': { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    patients: { type: 'string', default: '1' },
    store: { type: 'string' },
  },
});
const total = Number(values.events);
const inFlight = Number(values['in-flight']);
const rounds = Number(values.rounds);
const patients = Array.from({ length: Number(values.patients) }, (_, i) => patientCx(uniqueFodselsnummer(1, i)));
console.log(
  `audit record(): ${total} events over ${patients.length} patients, ${inFlight} in flight, ${rounds} rounds, ` +
    `${values.store === undefined ? 'empty store' : `from a copy of ${values.store}`}, load average ${loadavg()[0]!.toFixed(2)}`,
);
const results: Round[] = [];
for (let r = 1; r <= rounds; r++) {
  const result = await round(total, inFlight, patients, values.store);
  results.push(result);
  console.log(
    `  round ${r}: ${result.eventsPerS} events/s, ${result.cpuMsPerEvent.toFixed(3)} ms CPU/event, ` +
      `event loop delay p99 ${result.loopDelayP99Ms.toFixed(1)} ms, max ${result.loopDelayMaxMs.toFixed(1)} ms`,
  );
}
console.log(
  `median: ${median(results.map((r) => r.eventsPerS))} events/s, ${median(results.map((r) => r.cpuMsPerEvent)).toFixed(3)} ms CPU/event, ` +
    `event loop delay p99 ${median(results.map((r) => r.loopDelayP99Ms)).toFixed(1)} ms`,
);
