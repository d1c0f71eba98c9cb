/**
 * node-soap JSON for the registry requests of the ITI-57 and ITI-51 interop tests, and readers for
 * what node-soap hands back. node-soap serializes this JSON through the schemas the node's WSDL
 * imports: attributes under `attributes`, text under `$value`, arrays for repeated elements, and
 * the key order is the element order on the wire.
 */
import type * as soap from 'soap';

export type Json = Record<string, unknown>;

/** What node-soap's promise methods resolve with: [result, rawResponse, soapHeader, rawRequest]. */
export type SoapAnswer = [Json, string, Json | undefined, string];

export const SUCCESS = 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success';
export const FAILURE = 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure';
export const APPROVED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved';
export const DOCUMENT_PATIENT_SCHEME = 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427';
export const DOCUMENT_UNIQUE_ID_SCHEME = 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab';
const INSTITUTION = 'Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880';
const HAS_MEMBER = 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember';

export const slot = (name: string, ...values: string[]): Json => ({ attributes: { name }, ValueList: { Value: values } });
export const named = (value: string): Json => ({ LocalizedString: { attributes: { value } } });
const code = (id: string, scheme: string, object: string, value: string, codingScheme: string, display: string): Json => ({
  attributes: { id, classificationScheme: `urn:uuid:${scheme}`, classifiedObject: object, nodeRepresentation: value },
  Slot: [slot('codingScheme', codingScheme)],
  Name: named(display),
});
const externalId = (id: string, scheme: string, object: string, value: string, name: string): Json => ({
  attributes: { id, identificationScheme: scheme, registryObject: object, value },
  Name: named(name),
});

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
export const attrs = (o: unknown): Record<string, string> => ((o as Json | undefined)?.attributes ?? {}) as Record<string, string>;
export const errorCodes = (result: Json): string[] =>
  asArray((result.RegistryErrorList as Json | undefined)?.RegistryError).map((e) => attrs(e).errorCode!);

/** The value of an object's ExternalIdentifier of the given scheme, as node-soap parsed it. */
export const identifier = (o: Json, scheme: string): string | undefined =>
  attrs(asArray(o.ExternalIdentifier as Json | Json[]).find((x) => attrs(x).identificationScheme === scheme)).value;

/** A promise method of a node-soap client by name (the generated ones are not on soap.Client's type). */
export function operation(client: soap.Client, name: string): (args: Json, options?: Json) => Promise<SoapAnswer> {
  const fn = (client as unknown as Record<string, ((args: Json, options?: Json) => Promise<SoapAnswer>) | undefined>)[name];
  if (typeof fn !== 'function') throw new Error(`node-soap made no ${name} from the WSDL`);
  return fn.bind(client);
}

export interface EntryVersion {
  /** The entry's id: a urn:uuid for a new version. */
  readonly id: string;
  /** lid: the entryUUID of the registered first version. */
  readonly lid: string;
  readonly patient: string;
  readonly uniqueId: string;
  readonly title: string;
  /** The registered version's repositoryUniqueId, hash and size (a registry entry carries them). */
  readonly repositoryUniqueId: string;
  readonly hash: string;
  readonly size: string;
  /** Volven 9603 confidentialityCode of the new version; the fixture's N unless given. */
  readonly confidentialityCode?: 'N' | 'R';
}

/**
 * An ITI-57 lcm:SubmitObjectsRequest as node-soap JSON: a SubmissionSet (symbolic id) and a new
 * version of the epikrise DocumentEntry (the fixture's values, test/helpers/ebxml.ts `epikrise`,
 * with the given id, lid and title), linked by a HasMember with `PreviousVersion`.
 */
export function updateDocumentSet(v: EntryVersion, previousVersion: string, submissionSetUid: string): Json {
  const doc = v.id;
  const ss = 'SubmissionSet01';
  return {
    RegistryObjectList: {
      ExtrinsicObject: {
        attributes: { id: doc, lid: v.lid, mimeType: 'application/pdf', objectType: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1' },
        Slot: [
          slot('creationTime', '20261120101500'),
          slot('languageCode', 'nb-NO'),
          slot('serviceStartTime', '20261115'),
          slot('serviceStopTime', '20261119'),
          slot('sourcePatientId', v.patient),
          slot('sourcePatientInfo', 'PID-5|Testesen^Kari', 'PID-8|F'),
          slot('repositoryUniqueId', v.repositoryUniqueId),
          slot('hash', v.hash),
          slot('size', v.size),
          slot('urn:no:nhn:xds:extra:department', 'Indremedisinsk avdeling'),
        ],
        Name: { LocalizedString: { attributes: { 'xml:lang': 'nb-NO', charset: 'UTF-8', value: v.title } } },
        Classification: [
          {
            attributes: { id: 'cl01', classificationScheme: 'urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d', classifiedObject: doc, nodeRepresentation: '' },
            Slot: [
              slot('authorPerson', '502116685^GEIRAAS^BENEDIKTE^^^^^^&2.16.578.1.12.4.1.4.4&ISO'),
              slot('authorInstitution', INSTITUTION),
              slot('authorRole', 'LE'),
            ],
          },
          code('cl02', '41a5887f-8865-4c09-adf7-e362475b143a', doc, 'A00-1', '2.16.578.1.12.4.1.1.9602', 'Epikriser og sammenfatninger'),
          code('cl03', 'f0306f51-975f-434e-a61c-c59651d33983', doc, 'A03-2', '2.16.578.1.12.4.1.1.9602', 'Epikrise'),
          v.confidentialityCode === 'R'
            ? code('cl04', 'f4f85eac-e6cb-4883-b524-f2705394840f', doc, 'R', '2.16.578.1.12.4.1.1.9603', 'Begrenset')
            : code('cl04', 'f4f85eac-e6cb-4883-b524-f2705394840f', doc, 'N', '2.16.578.1.12.4.1.1.9603', 'Normal'),
          code('cl05', 'a09d5840-386c-46f2-b5ad-9c3699a4309d', doc, 'urn:no:ehelse:document:pdf', '2.16.578.1.12.4.1.1.9604', 'PDF'),
          code('cl06', 'f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1', doc, '86.101', '2.16.578.1.12.4.1.1.1303', 'Somatisk sykehus'),
          code('cl07', 'cccf5598-8b07-4b77-a05e-ae952c785ead', doc, 'S03', '2.16.578.1.12.4.1.1.8655', 'Indremedisin'),
        ],
        ExternalIdentifier: [
          externalId('ei01', DOCUMENT_PATIENT_SCHEME, doc, v.patient, 'XDSDocumentEntry.patientId'),
          externalId('ei02', DOCUMENT_UNIQUE_ID_SCHEME, doc, v.uniqueId, 'XDSDocumentEntry.uniqueId'),
        ],
      },
      RegistryPackage: {
        attributes: { id: ss },
        Slot: [slot('submissionTime', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14))],
        Name: named('Korrigering'),
        Classification: [
          {
            attributes: { id: 'cl08', classificationScheme: 'urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d', classifiedObject: ss, nodeRepresentation: '' },
            Slot: [slot('authorInstitution', INSTITUTION)],
          },
          code('cl09', 'aa543740-bdda-424e-8c96-df4873be8500', ss, 'A00-1', '2.16.578.1.12.4.1.1.9602', 'Epikriser og sammenfatninger'),
        ],
        ExternalIdentifier: [
          externalId('ei03', 'urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8', ss, submissionSetUid, 'XDSSubmissionSet.uniqueId'),
          externalId('ei04', 'urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832', ss, '2.16.578.1.12.4.5.100.1.9', 'XDSSubmissionSet.sourceId'),
          externalId('ei05', 'urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446', ss, v.patient, 'XDSSubmissionSet.patientId'),
        ],
      },
      Classification: { attributes: { id: 'cl10', classifiedObject: ss, classificationNode: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd' } },
      Association: {
        attributes: { id: 'as01', associationType: HAS_MEMBER, sourceObject: ss, targetObject: doc },
        Slot: [slot('SubmissionSetStatus', 'Original'), slot('PreviousVersion', previousVersion)],
      },
    },
  };
}

/**
 * A query:AdhocQueryRequest as node-soap JSON: the stored query `queryId` with each slot's one
 * value written as given (stored-query syntax: `'…'` or `('…', '…')`).
 */
export function adhocQuery(queryId: string, slots: readonly [string, string][], returnType: 'LeafClass' | 'ObjectRef'): Json {
  return {
    ResponseOption: { attributes: { returnType, returnComposedObjects: 'true' } },
    AdhocQuery: { attributes: { id: queryId }, Slot: slots.map(([name, value]) => slot(name, value)) },
  };
}
