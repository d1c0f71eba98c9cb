/**
 * Interop for ITI-62: node-soap (its own WSDL/XSD reader, serializer and HTTP) loads the registry
 * WSDL from the node, finds the DeleteDocumentSet operation, builds lcm:RemoveObjectsRequest from
 * JSON and reads the rs:RegistryResponse back. The submission is registered with the test helpers'
 * ITI-42; node-soap only removes.
 */
import { expect } from 'chai';
import * as soap from 'soap';
import type { Association } from '../../registry/model/metadata.js';
import { cx, epikrise, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { PATIENT_FNR } from '../wiring/helpers.js';
import { clientFor } from './node-soap-client.js';

const SUCCESS = 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success';
const FAILURE = 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure';

type Json = Record<string, unknown>;
const attrs = (o: unknown): Record<string, string> => ((o as Json | undefined)?.attributes ?? {}) as Record<string, string>;

describe('interop: node-soap removes metadata (ITI-62)', function () {
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

  async function registered(): Promise<string[]> {
    const patient = cx(PATIENT_FNR);
    expect(status((await postSoap(url, ACTIONS.iti42.request, epikrise({ patient }).xml)).body)).to.equal('Success');
    const objects = await node.registry.store.find({ patientId: patient });
    const set = objects.filter((o) => o.type === 'SubmissionSet').at(-1)!;
    const entry = objects.filter((o) => o.type === 'DocumentEntry').at(-1)!;
    const [hasMember] = (await node.registry.store.find({ type: 'Association', sourceUuid: set.entryUuid, targetUuid: entry.entryUuid })) as Association[];
    return [set.entryUuid, hasMember!.entryUuid, entry.entryUuid];
  }

  const removeObjects = (ids: readonly string[]): Promise<[Json, string]> =>
    client.DocumentRegistry_DeleteDocumentSetAsync({ ObjectRefList: { ObjectRef: ids.map((id) => ({ attributes: { id } })) } }) as Promise<[Json, string]>;

  it('removes a submission through the WSDL operation: Success, and the objects are gone', async () => {
    const ids = await registered();
    const [result] = await removeObjects(ids);
    expect(attrs(result).status).to.equal(SUCCESS);
    expect(await node.registry.store.getByUuids(ids)).to.deep.equal([]);
  });

  it('reads a Failure with its RegistryError back from the same operation', async () => {
    const ids = await registered();
    const [result, raw] = await removeObjects([ids[0]!]);
    expect(attrs(result).status).to.equal(FAILURE);
    expect(raw).to.contain('ReferencesExistException');
    expect(await node.registry.store.getByUuids(ids)).to.have.length(3);
  });
});
