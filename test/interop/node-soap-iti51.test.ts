/**
 * Interop for ITI-51: node-soap (its own WSDL/XSD reader, serializer and HTTP) loads the registry
 * WSDL from a node with `registry.multiPatientQuery` enabled, finds the MultiPatientStoredQuery
 * operation, builds FindDocumentsForMultiplePatients from JSON and reads the
 * query:AdhocQueryResponse back (ObjectRef and LeafClass). A node without the setting answers the
 * same call with a SOAP fault (wsa:ActionNotSupported) that node-soap reports. The documents are
 * registered with the test helpers' ITI-42; node-soap only queries.
 */
import { expect } from 'chai';
import type * as soap from 'soap';
import { cx, epikrise, errorCodes as codesOf, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { clientFor } from './node-soap-client.js';
import {
  adhocQuery,
  APPROVED,
  asArray,
  attrs,
  DOCUMENT_PATIENT_SCHEME,
  errorCodes,
  identifier,
  operation,
  SUCCESS,
  type Json,
} from './node-soap-messages.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';
/** FindDocumentsForMultiplePatients (ITI TF-2 3.51.4.1.2.3.1), written out rather than taken from the product. */
const FIND_DOCUMENTS_FOR_MULTIPLE_PATIENTS = 'urn:uuid:3d1bdb10-39a2-11de-89c2-2f44d94eaa9f';
/** Three synthetic persons (valid fødselsnummer check digits); the third is never asked for. */
const PATIENT = { a: cx('13116900216'), b: cx('12057900499'), c: cx('01017012343') } as const;
const CLASS_EPIKRISE = 'A00-1^^2.16.578.1.12.4.1.1.9602';
const list = (...values: string[]): string => `(${values.map((v) => `'${v}'`).join(', ')})`;

const findForPatients = (returnType: 'LeafClass' | 'ObjectRef', ...patients: string[]): Json =>
  adhocQuery(
    FIND_DOCUMENTS_FOR_MULTIPLE_PATIENTS,
    [
      ['$XDSDocumentEntryPatientId', list(...patients)],
      ['$XDSDocumentEntryStatus', list(APPROVED)],
      ['$XDSDocumentEntryClassCode', list(CLASS_EPIKRISE)],
    ],
    returnType,
  );

/** ITI-42 with the test helpers for each patient; the entryUUID the registry gave each entry. */
async function register(node: TestNode, patients: readonly string[]): Promise<Map<string, string>> {
  const entryOf = new Map<string, string>();
  for (const patient of patients) {
    const docUid = uid();
    const res = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti42.request, epikrise({ patient, docUid }).xml);
    expect(status(res.body), codesOf(res.body).join(' ')).to.equal('Success');
    const [entry] = await node.registry.store.find({ type: 'DocumentEntry', uniqueId: docUid });
    entryOf.set(patient, entry!.entryUuid);
  }
  return entryOf;
}

describe('interop: node-soap runs a multi-patient stored query (ITI-51)', function () {
  this.timeout(20_000);

  describe('at a node with registry.multiPatientQuery enabled', () => {
    let node: TestNode;
    let client: soap.Client;
    let messageIds: string[];
    let entryOf: Map<string, string>;
    let query: (args: Json) => Promise<[Json, string, Json | undefined, string]>;

    before(async () => {
      node = await startTestNode({ homeCommunityId: HOME, registry: { multiPatientQuery: { enabled: true } } });
      entryOf = await register(node, Object.values(PATIENT));
      ({ client, messageIds } = await clientFor(`${node.url}/xds/registry?wsdl`));
      query = operation(client, 'DocumentRegistry_MultiPatientStoredQueryAsync');
    });
    after(async () => node?.close());

    it('FindDocumentsForMultiplePatients, ObjectRef: the entries of both patients asked for, not the third', async () => {
      const [result, , header] = await query(findForPatients('ObjectRef', PATIENT.a, PATIENT.b));
      expect(errorCodes(result)).to.deep.equal([]);
      expect(attrs(result).status).to.equal(SUCCESS);
      expect(client.lastRequest).to.include(`soap:mustUnderstand="true">${ACTIONS.iti51.request}</wsa:Action>`);
      expect(client.lastRequest).to.include(`id="${FIND_DOCUMENTS_FOR_MULTIPLE_PATIENTS}"`);
      expect((header?.Action as Json).$value).to.equal(ACTIONS.iti51.response);
      expect(header?.RelatesTo).to.equal(messageIds.at(-1));
      const list = result.RegistryObjectList as Json;
      expect(list.ExtrinsicObject, 'no LeafClass objects in an ObjectRef answer').to.equal(undefined);
      const refs = asArray(list.ObjectRef as Json | Json[]).map((r) => attrs(r).id);
      expect(refs.sort()).to.deep.equal([entryOf.get(PATIENT.a), entryOf.get(PATIENT.b)].sort());
    });

    it('FindDocumentsForMultiplePatients, LeafClass: each entry with its own patient, stamped with the home community', async () => {
      const [result] = await query(findForPatients('LeafClass', PATIENT.a, PATIENT.b));
      expect(attrs(result).status).to.equal(SUCCESS);
      const entries = asArray((result.RegistryObjectList as Json).ExtrinsicObject as Json | Json[]);
      expect(entries.map((e) => attrs(e).id).sort()).to.deep.equal([entryOf.get(PATIENT.a), entryOf.get(PATIENT.b)].sort());
      for (const e of entries) {
        const patient = identifier(e, DOCUMENT_PATIENT_SCHEME)!;
        expect(entryOf.get(patient), `entry of ${patient}`).to.equal(attrs(e).id);
        expect(attrs(e).home).to.equal(HOME);
        const classCode = asArray(e.Classification as Json | Json[]).find(
          (c) => attrs(c).classificationScheme === 'urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a',
        );
        expect(attrs(classCode).nodeRepresentation).to.equal('A00-1');
      }
    });
  });

  describe('at a node without the setting', () => {
    let node: TestNode;
    let client: soap.Client;

    before(async () => {
      node = await startTestNode({ homeCommunityId: HOME });
      await register(node, [PATIENT.a, PATIENT.b]);
      ({ client } = await clientFor(`${node.url}/xds/registry?wsdl`));
    });
    after(async () => node?.close());

    it('the same call is answered with a SOAP fault, wsa:ActionNotSupported, which node-soap reports', async () => {
      const err = (await operation(client, 'DocumentRegistry_MultiPatientStoredQueryAsync')(findForPatients('LeafClass', PATIENT.a, PATIENT.b)).then(
        () => undefined,
        (e: unknown) => e,
      )) as { root?: Json; response?: { status: number } } | undefined;
      expect(err, 'node-soap should reject with the fault').to.not.equal(undefined);
      // SOAP 1.2 HTTP binding: a Sender fault travels as 400 Bad Request.
      expect(err!.response?.status).to.equal(400);
      const fault = ((err!.root?.Envelope as Json).Body as Json).Fault as Json;
      const code = fault.Code as Json;
      expect(code.Value).to.equal('soap:Sender');
      expect((code.Subcode as Json).Value).to.match(/:ActionNotSupported$/);
      expect(JSON.stringify(fault.Detail)).to.include(ACTIONS.iti51.request);
    });
  });
});
