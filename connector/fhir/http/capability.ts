/**
 * The CapabilityStatement at `<base>/metadata`: exactly what this endpoint serves, so that a client
 * (or a test harness) can tell from it what to send: FHIR R4 in JSON only; the transaction
 * interaction for ITI-65; DocumentReference read and search (ITI-67) with the parameters the
 * mapping reads; List search (ITI-66); Binary read, which is where ITI-68's document URLs point;
 * and, with the trust model on, that a HelseID access token is required.
 */
import { MHD_PROFILE } from '../mapping/fhir.js';

const MHD = 'https://profiles.ihe.net/ITI/MHD';

/** A search parameter as declared. */
interface SearchParam {
  readonly name: string;
  readonly type: 'token' | 'reference' | 'date' | 'string';
  readonly documentation?: string;
}

const DOCUMENT_REFERENCE_PARAMS: readonly SearchParam[] = [
  { name: '_id', type: 'token', documentation: 'the entryUUID (GetDocuments)' },
  { name: 'identifier', type: 'token', documentation: 'entryUUID (urn:uuid:) or uniqueId (GetDocuments)' },
  { name: 'patient', type: 'reference', documentation: 'Patient/<assigning authority OID>-<id>, or Patient?identifier=…; also patient.identifier=urn:oid:<OID>|<id>' },
  { name: 'patient.identifier', type: 'token', documentation: 'urn:oid:<assigning authority>|<id> (required, or patient)' },
  { name: 'status', type: 'token', documentation: 'current, superseded (required)' },
  { name: 'date', type: 'date', documentation: 'creationTime' },
  { name: 'creation', type: 'date', documentation: 'creationTime (MHD)' },
  { name: 'period', type: 'date', documentation: 'serviceStartTime' },
  { name: 'category', type: 'token', documentation: 'classCode' },
  { name: 'type', type: 'token', documentation: 'typeCode' },
  { name: 'setting', type: 'token', documentation: 'practiceSettingCode' },
  { name: 'facility', type: 'token', documentation: 'healthcareFacilityTypeCode' },
  { name: 'event', type: 'token', documentation: 'eventCodeList (repeat for AND)' },
  { name: 'security-label', type: 'token', documentation: 'confidentialityCode (repeat for AND)' },
  { name: 'format', type: 'token', documentation: 'formatCode' },
  { name: 'related', type: 'token', documentation: 'referenceIdList (FindDocumentsByReferenceId)' },
  { name: 'author.given', type: 'string', documentation: 'authorPerson' },
  { name: 'author.family', type: 'string', documentation: 'authorPerson' },
];

const LIST_PARAMS: readonly SearchParam[] = [
  { name: 'patient', type: 'reference' },
  { name: 'patient.identifier', type: 'token', documentation: 'urn:oid:<assigning authority>|<id> (required, or patient)' },
  { name: 'code', type: 'token', documentation: 'submissionset or folder (required)' },
  { name: 'status', type: 'token', documentation: 'current, retired (required)' },
  { name: 'date', type: 'date', documentation: 'submissionTime / lastUpdateTime' },
  { name: 'designationType', type: 'token', documentation: 'contentTypeCode / codeList' },
  { name: 'sourceId', type: 'token', documentation: 'sourceId (SubmissionSets)' },
  { name: 'source.given', type: 'string', documentation: 'authorPerson (SubmissionSets)' },
  { name: 'source.family', type: 'string', documentation: 'authorPerson (SubmissionSets)' },
];

export interface CapabilityOptions {
  /** The endpoint's base URL (implementation.url). */
  readonly baseUrl: string;
  /** Whether a HelseID access token is required (the trust model protects the endpoint). */
  readonly tokenRequired: boolean;
  readonly version: string;
  /** When the statement was made (the node's start). */
  readonly date: string;
}

export function capabilityStatement(options: CapabilityOptions): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: options.date,
    publisher: 'koblingspunkt',
    kind: 'instance',
    instantiates: [`${MHD}/CapabilityStatement/IHE.MHD.DocumentRecipient`, `${MHD}/CapabilityStatement/IHE.MHD.DocumentResponder`],
    software: { name: 'koblingspunkt', version: options.version },
    implementation: { description: 'IHE MHD Document Recipient and Document Responder in front of an XDS.b registry and repository', url: options.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'ITI-65 Provide Document Bundle (transaction), ITI-66 Find Document Lists, ITI-67 Find Document References, ITI-68 Retrieve Document ' +
          '(Binary/<document uniqueId>?repositoryUniqueId=<OID>, the URL in DocumentReference.content.attachment.url). ' +
          'Unknown search parameters are refused unless Prefer: handling=lenient; all matches are answered in one page.',
        ...(options.tokenRequired
          ? {
              security: {
                service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth', display: 'OAuth' }] }],
                description: 'A HelseID access token (RFC 9068 JWT, Bearer or DPoP-bound) with the scope of the transaction (IHE IUA ITI-72).',
              },
            }
          : {}),
        resource: [
          {
            type: 'DocumentReference',
            supportedProfile: [MHD_PROFILE.comprehensiveDocumentReference, MHD_PROFILE.minimalDocumentReference],
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: DOCUMENT_REFERENCE_PARAMS.map(searchParam),
          },
          {
            type: 'List',
            supportedProfile: [MHD_PROFILE.comprehensiveSubmissionSet, MHD_PROFILE.minimalSubmissionSet, MHD_PROFILE.comprehensiveFolder, MHD_PROFILE.minimalFolder],
            interaction: [{ code: 'search-type' }],
            searchParam: LIST_PARAMS.map(searchParam),
          },
          {
            type: 'Binary',
            documentation: 'ITI-68: the id is the document uniqueId (URL-encoded); the document is answered as it is, or as a Binary resource to Accept: application/fhir+json. Range requests are honoured.',
            interaction: [{ code: 'read' }],
          },
        ],
        interaction: [{ code: 'transaction', documentation: `ITI-65 Provide Document Bundle (${MHD_PROFILE.comprehensiveProvideBundle}, ${MHD_PROFILE.minimalProvideBundle})` }],
      },
    ],
  };
}

function searchParam(p: SearchParam): Record<string, unknown> {
  return { name: p.name, type: p.type, ...(p.documentation !== undefined ? { documentation: p.documentation } : {}) };
}
