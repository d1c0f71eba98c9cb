/**
 * Interop for ITI-57: node-soap (its own WSDL/XSD reader, serializer and HTTP) loads the registry
 * WSDL from the node, finds the UpdateDocumentSet operation, builds an lcm:SubmitObjectsRequest with
 * a new DocumentEntry version from JSON and reads the rs:RegistryResponse back. The first version is
 * registered with the test helpers' ITI-42; node-soap only updates.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type * as soap from 'soap';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { cx, epikrise, errorCodes as codesOf, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { PATIENT_FNR } from '../wiring/helpers.js';
import { clientFor } from './node-soap-client.js';
import { attrs, errorCodes, FAILURE, operation, SUCCESS, updateDocumentSet, type Json } from './node-soap-messages.js';

const PATIENT = cx(PATIENT_FNR);

describe('interop: node-soap updates metadata (ITI-57)', function () {
  this.timeout(20_000);
  let node: TestNode;
  let url: string;
  let client: soap.Client;

  before(async () => {
    node = await startTestNode();
    url = `${node.url}/xds/registry`;
    ({ client } = await clientFor(`${url}?wsdl`));
  });
  after(async () => node?.close());

  const versionsOf = async (docUid: string): Promise<DocumentEntry[]> =>
    (await node.registry.store.find({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];

  /** ITI-42 with the test helpers; the registered (first) version of the entry. */
  async function registered(): Promise<DocumentEntry> {
    const docUid = uid();
    const res = await postSoap(url, ACTIONS.iti42.request, epikrise({ patient: PATIENT, docUid }).xml);
    expect(status(res.body), codesOf(res.body).join(' ')).to.equal('Success');
    const [v1] = await versionsOf(docUid);
    expect(v1?.entryUuid).to.match(/^urn:uuid:/);
    return v1!;
  }

  /** DocumentRegistry_UpdateDocumentSet through node-soap: a new version of `v1` with id `id`. */
  function update(v1: DocumentEntry, id: string, title: string, previousVersion: string): Promise<[Json, string, Json | undefined, string]> {
    const request = updateDocumentSet(
      {
        id,
        lid: v1.entryUuid,
        patient: PATIENT,
        uniqueId: v1.uniqueId!,
        title,
        repositoryUniqueId: v1.repositoryUniqueId!,
        hash: v1.hash!,
        size: v1.size!,
      },
      previousVersion,
      uid(),
    );
    return operation(client, 'DocumentRegistry_UpdateDocumentSetAsync')(request);
  }

  it('the registry WSDL offers DocumentRegistry_UpdateDocumentSet', () => {
    const ports = client.describe() as Record<string, Record<string, Json>>;
    expect(Object.keys(ports.DocumentRegistry_Service!.DocumentRegistry_Port_Soap12!)).to.include('DocumentRegistry_UpdateDocumentSet');
  });

  it('a new DocumentEntry version through the WSDL operation: Success, version 2 stored, version 1 Deprecated', async () => {
    const v1 = await registered();
    const id = `urn:uuid:${randomUUID()}`;
    const [result, , header] = await update(v1, id, 'Epikrise indremedisin, korrigert via node-soap', '1');
    expect(errorCodes(result)).to.deep.equal([]);
    expect(attrs(result).status).to.equal(SUCCESS);
    // What node-soap put on the wire, and the action of the answer it read.
    expect(client.lastRequest).to.include(`soap:mustUnderstand="true">${ACTIONS.iti57.request}</wsa:Action>`);
    expect(client.lastRequest).to.include(`lid="${v1.entryUuid}"`);
    expect(client.lastRequest).to.match(/<rim:Slot name="PreviousVersion"><rim:ValueList><rim:Value>1<\/rim:Value>/);
    expect((header?.Action as Json).$value).to.equal(ACTIONS.iti57.response);

    const versions = await versionsOf(v1.uniqueId!);
    expect(versions).to.have.length(2);
    const first = versions.find((v) => v.entryUuid === v1.entryUuid)!;
    const second = versions.find((v) => v.entryUuid === id);
    expect(second, `version 2 under ${id}`).to.not.equal(undefined);
    expect(second!.version).to.equal('2');
    expect(second!.logicalUuid).to.equal(v1.entryUuid);
    expect(second!.availabilityStatus).to.equal('Approved');
    expect(second!.title?.value).to.equal('Epikrise indremedisin, korrigert via node-soap');
    expect(first.version).to.equal('1');
    expect(first.availabilityStatus).to.equal('Deprecated');
  });

  it('a second update with PreviousVersion 1 comes back to node-soap as XDSMetadataVersionError; nothing changes', async () => {
    const v1 = await registered();
    const [ok] = await update(v1, `urn:uuid:${randomUUID()}`, 'Versjon 2', '1');
    expect(attrs(ok).status).to.equal(SUCCESS);
    const before = await versionsOf(v1.uniqueId!);

    const stale = `urn:uuid:${randomUUID()}`;
    const [result, raw] = await update(v1, stale, 'Versjon 2 igjen', '1');
    expect(attrs(result).status).to.equal(FAILURE);
    expect(errorCodes(result)).to.deep.equal(['XDSMetadataVersionError']);
    expect(raw).to.contain('XDSMetadataVersionError');
    const after = await versionsOf(v1.uniqueId!);
    expect(after.map((v) => [v.entryUuid, v.version, v.availabilityStatus]).sort()).to.deep.equal(
      before.map((v) => [v.entryUuid, v.version, v.availabilityStatus]).sort(),
    );
    expect(after.some((v) => v.entryUuid === stale)).to.equal(false);
  });
});
