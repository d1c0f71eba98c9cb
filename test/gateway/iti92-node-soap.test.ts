/**
 * Interop: node-soap (its own WSDL/XSD reader, serializer and HTTP) sends ITI-92 Restricted Update
 * Document Set through the WSDL operations the node serves, at the responding gateway (XCA
 * Persistence Option, RespondingGateway.wsdl) and at the registry (XDS Persistence Option,
 * DocumentRegistry.wsdl). The request is built from JSON through the schemas those WSDLs import;
 * the node answers with the ITI-92 response action and makes the new version.
 */
import { expect } from 'chai';
import type * as soap from 'soap';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { epikrise, errorCodes as codesOf, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { clientFor } from '../interop/node-soap-client.js';
import { HOME } from '../wiring/helpers.js';
import { PATIENT } from './iti92-messages.js';

const SUCCESS = 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success';

type Json = Record<string, unknown>;
const slot = (name: string, ...values: string[]): Json => ({ attributes: { name }, ValueList: { Value: values } });
const named = (value: string): Json => ({ LocalizedString: { attributes: { value } } });
const code = (id: string, scheme: string, object: string, value: string, codingScheme: string, display: string): Json => ({
  attributes: { id, classificationScheme: `urn:uuid:${scheme}`, classifiedObject: object, nodeRepresentation: value },
  Slot: [slot('codingScheme', codingScheme)],
  Name: named(display),
});
const externalId = (id: string, scheme: string, object: string, value: string, name: string): Json => ({
  attributes: { id, identificationScheme: `urn:uuid:${scheme}`, registryObject: object, value },
  Name: named(name),
});

/**
 * A new version (PreviousVersion 1) of the epikrise fixture registered as `v1`, as node-soap JSON:
 * the fixture's values where RMU keeps them (patient, sourcePatientId, repositoryUniqueId), a new
 * title and confidentialityCode R.
 */
function restrictedUpdate(v1: DocumentEntry, title: string): Json {
  const doc = 'Document01';
  const ss = 'SubmissionSet01';
  const institution = 'Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880';
  return {
    RegistryObjectList: {
      ExtrinsicObject: {
        attributes: { id: doc, lid: v1.entryUuid, home: HOME, mimeType: 'application/pdf', objectType: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1' },
        Slot: [
          slot('creationTime', '20261120101500'),
          slot('languageCode', 'nb-NO'),
          slot('sourcePatientId', PATIENT),
          slot('repositoryUniqueId', v1.repositoryUniqueId!),
          slot('hash', v1.hash!),
          slot('size', v1.size!),
        ],
        Name: named(title),
        Classification: [
          {
            attributes: { id: 'cl01', classificationScheme: 'urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d', classifiedObject: doc, nodeRepresentation: '' },
            Slot: [slot('authorInstitution', institution), slot('authorRole', 'LE')],
          },
          code('cl02', '41a5887f-8865-4c09-adf7-e362475b143a', doc, 'A00-1', '2.16.578.1.12.4.1.1.9602', 'Epikriser og sammenfatninger'),
          code('cl03', 'f0306f51-975f-434e-a61c-c59651d33983', doc, 'A03-2', '2.16.578.1.12.4.1.1.9602', 'Epikrise'),
          code('cl04', 'f4f85eac-e6cb-4883-b524-f2705394840f', doc, 'R', '2.16.578.1.12.4.1.1.9603', 'Begrenset'),
          code('cl05', 'a09d5840-386c-46f2-b5ad-9c3699a4309d', doc, 'urn:no:ehelse:document:pdf', '2.16.578.1.12.4.1.1.9604', 'PDF'),
          code('cl06', 'f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1', doc, '86.101', '2.16.578.1.12.4.1.1.1303', 'Somatisk sykehus'),
          code('cl07', 'cccf5598-8b07-4b77-a05e-ae952c785ead', doc, 'S03', '2.16.578.1.12.4.1.1.8655', 'Indremedisin'),
        ],
        ExternalIdentifier: [
          externalId('ei01', '58a6f841-87b3-4a3e-92fd-a8ffeff98427', doc, PATIENT, 'XDSDocumentEntry.patientId'),
          externalId('ei02', '2e82c1f6-a085-4c72-9da3-8640a32e42ab', doc, v1.uniqueId!, 'XDSDocumentEntry.uniqueId'),
        ],
      },
      RegistryPackage: {
        attributes: { id: ss },
        Slot: [slot('submissionTime', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14))],
        Name: named('Korrigering'),
        Classification: [
          {
            attributes: { id: 'cl08', classificationScheme: 'urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d', classifiedObject: ss, nodeRepresentation: '' },
            Slot: [slot('authorInstitution', institution)],
          },
          code('cl09', 'aa543740-bdda-424e-8c96-df4873be8500', ss, 'A00-1', '2.16.578.1.12.4.1.1.9602', 'Epikriser og sammenfatninger'),
        ],
        ExternalIdentifier: [
          externalId('ei03', '96fdda7c-d067-4183-912e-bf5ee74998a8', ss, uid(), 'XDSSubmissionSet.uniqueId'),
          externalId('ei04', '554ac39e-e3fe-47fe-b233-965d2a147832', ss, '2.16.578.1.12.4.5.100.1.9', 'XDSSubmissionSet.sourceId'),
          externalId('ei05', '6b5aea1a-874d-4603-a4bc-96a0a7b38446', ss, PATIENT, 'XDSSubmissionSet.patientId'),
        ],
      },
      Classification: { attributes: { id: 'cl10', classifiedObject: ss, classificationNode: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd' } },
      Association: {
        attributes: { id: 'as01', associationType: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember', sourceObject: ss, targetObject: doc },
        Slot: [slot('SubmissionSetStatus', 'Original'), slot('PreviousVersion', '1')],
      },
    },
  };
}

/** What node-soap hands back: [result, rawResponse, soapHeader, rawRequest]. */
type SoapAnswer = [Json, string, Json | undefined, string];
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const attrs = (o: unknown): Record<string, string> => ((o as Json | undefined)?.attributes ?? {}) as Record<string, string>;
const errorCodes = (result: Json): string[] => asArray((result.RegistryErrorList as Json | undefined)?.RegistryError).map((e) => attrs(e).errorCode!);

describe('interop: node-soap sends ITI-92 through the WSDL operations', function () {
  this.timeout(20_000);
  let node: TestNode;
  const versionsOf = async (docUid: string) => (await node.registry.store.find({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME });
  });
  after(async () => node?.close());

  const endpoints = [
    { path: '/xca/responding', service: 'RespondingGateway', option: 'XCA Persistence Option' },
    { path: '/xds/registry', service: 'DocumentRegistry', option: 'XDS Persistence Option' },
  ] as const;

  for (const e of endpoints) {
    it(`${e.service}_RestrictedUpdateDocumentSet (${e.option}): the new version is made, the answer carries the ITI-92 response action`, async () => {
      const docUid = uid();
      const registered = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti42.request, epikrise({ patient: PATIENT, docUid }).xml);
      expect(status(registered.body), codesOf(registered.body).join(' ')).to.equal('Success');
      const [v1] = await versionsOf(docUid);

      const { client } = await clientFor(`${node.url}${e.path}?wsdl`);
      const operations = Object.keys((client.describe() as Record<string, Record<string, Json>>)[`${e.service}_Service`]![`${e.service}_Port_Soap12`]!);
      expect(operations).to.include(`${e.service}_RestrictedUpdateDocumentSet`);
      const call = (client as unknown as Record<string, (args: Json) => Promise<SoapAnswer>>)[`${e.service}_RestrictedUpdateDocumentSetAsync`]!;
      const [result, , header] = await call.call(client, restrictedUpdate(v1!, `Epikrise, korrigert via ${e.service}`));
      expect(errorCodes(result)).to.deep.equal([]);
      expect(attrs(result).status).to.equal(SUCCESS);
      expect((client as soap.Client).lastRequest).to.include(`>${ACTIONS.iti92.request}</wsa:Action>`);
      expect((header?.Action as Json).$value).to.equal(ACTIONS.iti92.response);

      const versions = await versionsOf(docUid);
      const v2 = versions.find((v) => v.version === '2');
      expect(v2?.title?.value).to.equal(`Epikrise, korrigert via ${e.service}`);
      expect(v2?.confidentialityCodes.map((c) => c.code)).to.deep.equal(['R']);
    });
  }
});
