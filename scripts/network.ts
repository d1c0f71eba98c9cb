/**
 * `npm run network [-- --keep]`: starts the demo network (a national hub and three regions on
 * loopback), loads synthetic documents into the regions with ITI-41, and plays kjernejournal: one
 * ITI-18 at the hub's initiating gateway finds the patient's documents in every region, one ITI-43
 * fetches a document's bytes from the region that holds it. With --keep the network stays up
 * (Ctrl-C stops it) so other clients can be pointed at it.
 */
import { parseArgs } from 'node:util';
import { SoapClient } from '../connector/soap/client.js';
import { ACTIONS } from '../connector/soap/actions.js';
import { documentBytes, parseRetrieveDocumentSetResponse, serializeRetrieveDocumentSetRequest } from '../connector/transactions/retrieve-wire.js';
import { parseAdhocQueryResponse, serializeAdhocQueryRequest } from '../registry/ebxml/index.js';
import { STORED_QUERY_ID } from '../registry/model/query.js';
import { patientCx } from './network/data.js';
import { loadDemoData, startNetwork } from './network/launch.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
  const network = await startNetwork();
  const client = new SoapClient();
  try {
    console.log(`national hub   ${network.hub.node.url}  (${network.hub.homeCommunityId})`);
    for (const r of network.regions) console.log(`${r.name.padEnd(14)} ${r.node.url}  (${r.homeCommunityId})`);
    const loaded = await loadDemoData(network);
    console.log(`\nloaded ${loaded.length} documents into ${network.regions.length} regions with ITI-41\n`);

    const patient = loaded[0]!.patient;
    const started = performance.now();
    const res = await client.call({
      url: network.hub.initiatingUrl,
      action: ACTIONS.iti18.request,
      body: serializeAdhocQueryRequest({
        queryId: STORED_QUERY_ID.FindDocuments,
        returnType: 'LeafClass',
        parameters: [
          { name: '$XDSDocumentEntryPatientId', values: [`'${patientCx(patient.fnr)}'`] },
          { name: '$XDSDocumentEntryStatus', values: ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"] },
        ],
      }),
      timeoutMs: 10_000,
    });
    const answer = parseAdhocQueryResponse(res.body);
    const ms = (performance.now() - started).toFixed(1);
    console.log(`kjernejournal: FindDocuments for ${patient.name} (${patient.fnr}) at the hub → ${answer.status}, ${answer.objects.length} documents in ${ms} ms`);
    const regionName = new Map(network.regions.map((r) => [r.homeCommunityId, r.name]));
    for (const o of answer.objects) {
      if (o.type !== 'DocumentEntry') continue;
      console.log(`  ${(regionName.get(o.homeCommunityId ?? '') ?? o.homeCommunityId ?? '?').padEnd(14)} ${o.typeCode?.displayName?.value?.padEnd(20) ?? ''} ${o.title?.value ?? ''}`);
    }

    const wanted = answer.objects.find((o) => o.type === 'DocumentEntry' && o.homeCommunityId === network.regions[2]!.homeCommunityId);
    if (wanted && wanted.type === 'DocumentEntry') {
      const retrieved = await client.call({
        url: network.hub.initiatingUrl,
        action: ACTIONS.iti43.request,
        body: serializeRetrieveDocumentSetRequest([
          { homeCommunityId: wanted.homeCommunityId!, repositoryUniqueId: wanted.repositoryUniqueId!, documentUniqueId: wanted.uniqueId! },
        ]),
        mtom: true,
        timeoutMs: 10_000,
      });
      const result = parseRetrieveDocumentSetResponse(retrieved.body, retrieved.attachments);
      const doc = result.documents[0];
      console.log(`\nkjernejournal: retrieve "${wanted.title?.value}" via the hub → ${result.status}, from ${regionName.get(doc?.homeCommunityId ?? '') ?? '?'}:`);
      if (doc) console.log(`  ${(await documentBytes(doc)).toString('utf8')}`);
    }
    if (values.keep) {
      console.log('\nthe network keeps running; Ctrl-C stops it');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await client.close();
    await network.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
