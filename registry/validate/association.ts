/**
 * Association rules for Register Document Set-b (ITI TF-3 4.2.2): which types are allowed, that
 * both ends resolve (in the message or the registry), the shapes HasMember may take, and the
 * document relationships (RPLC, APND, XFRM, XFRM_RPLC, signs).
 */
import { error, type RegistryErrorInfo } from '../model/errors.js';
import { ASSOCIATION_TYPE, DOCUMENT_RELATIONSHIPS, type Association, type RegistryObject } from '../model/metadata.js';
import { perObject, resolve, type Rule, type RuleContext, type SubmittedObject } from './rule.js';

const associations = (sub: { associations: readonly Association[] }) => sub.associations;

/** HasMember plus the document relationships; ITI-57 and on-demand types are not Register types. */
export const ITI42_ASSOCIATION_TYPES: readonly string[] = [ASSOCIATION_TYPE.HasMember, ...DOCUMENT_RELATIONSHIPS];

const REPLACING: readonly string[] = [ASSOCIATION_TYPE.RPLC, ASSOCIATION_TYPE.XFRM_RPLC];

const isHasMember = (a: Association) => a.associationType === ASSOCIATION_TYPE.HasMember;
const isRelationship = (a: Association) => DOCUMENT_RELATIONSHIPS.includes(a.associationType);

function typeName(associationType: string): string {
  return associationType.slice(associationType.lastIndexOf(':') + 1);
}

/** Both ends must resolve before shape rules can say anything useful about them. */
function ends(ctx: RuleContext, a: Association): { source?: SubmittedObject | RegistryObject; target?: SubmittedObject | RegistryObject } {
  return { source: resolve(ctx, a.sourceUuid), target: resolve(ctx, a.targetUuid) };
}

const isSubmissionSetOfMessage = (ctx: RuleContext, id: string) => ctx.submission.submissionSet.entryUuid === id;
const inMessage = (ctx: RuleContext, id: string) => ctx.inMessage.has(id);

export const associationRules: readonly Rule[] = [
  perObject(
    { id: 'ASSOC-type', description: 'associationType is HasMember or a document relationship', errorCode: 'XDSRegistryMetadataError' },
    associations,
    (a) => (ITI42_ASSOCIATION_TYPES.includes(a.associationType) ? undefined : `associationType "${a.associationType}" is not allowed in Register Document Set-b`),
  ),
  {
    id: 'ASSOC-references-resolve',
    description: 'sourceObject and targetObject name an object of the submission or of the registry',
    // ITI TF-3 Table 4.2.4.1-2: "the recipient cannot resolve an entryUUID reference in the transaction".
    errorCode: 'UnresolvedReferenceException',
    check(ctx) {
      const errors: RegistryErrorInfo[] = [];
      for (const a of ctx.submission.associations) {
        for (const [end, id] of [['sourceObject', a.sourceUuid], ['targetObject', a.targetUuid]] as const) {
          if (resolve(ctx, id) === undefined) {
            errors.push(error('UnresolvedReferenceException', `${end} ${id} is neither in the submission nor in the registry`, a.entryUuid));
          }
        }
      }
      return errors;
    },
  },
  perObject(
    {
      id: 'ASSOC-documentation-only-on-relationships',
      description: 'Association documentation classifies document relationships only, never HasMember (NIST 12370)',
      errorCode: 'XDSRegistryMetadataError',
    },
    associations,
    (a) => (!isRelationship(a) && (a.documentation?.length ?? 0) > 0 ? `${typeName(a.associationType)} association may not carry documentation` : undefined),
  ),
  perObject(
    {
      id: 'HM-shape',
      description: 'HasMember links this SubmissionSet to a DocumentEntry, Folder or Association, or a Folder to a DocumentEntry',
      errorCode: 'XDSRegistryMetadataError',
    },
    (sub) => sub.associations.filter(isHasMember),
    (a, ctx) => {
      const { source, target } = ends(ctx, a);
      if (source === undefined || target === undefined) return undefined;
      if (source.type === 'SubmissionSet') {
        if (!isSubmissionSetOfMessage(ctx, a.sourceUuid)) return `HasMember source ${a.sourceUuid} is a SubmissionSet already registered`;
        if (target.type === 'SubmissionSet') return 'a SubmissionSet cannot be a member of a SubmissionSet';
        if (target.type === 'Association' && !inMessage(ctx, a.targetUuid)) return `HasMember target ${a.targetUuid} is an association already registered`;
        return undefined;
      }
      if (source.type === 'Folder') {
        return target.type === 'DocumentEntry' ? undefined : `a Folder may only contain DocumentEntries, not ${target.type} ${a.targetUuid}`;
      }
      return `HasMember source ${a.sourceUuid} is a ${source.type}, not a SubmissionSet or Folder`;
    },
  ),
  perObject(
    {
      id: 'HM-submissionSetStatus',
      description: 'SubmissionSet→DocumentEntry HasMember carries SubmissionSetStatus Original (entry in the message) or Reference (entry in the registry)',
      errorCode: 'XDSRegistryMetadataError',
    },
    (sub) => sub.associations.filter(isHasMember),
    (a, ctx) => {
      const { source, target } = ends(ctx, a);
      if (source?.type !== 'SubmissionSet' || target?.type !== 'DocumentEntry') return undefined;
      const status = a.submissionSetStatus;
      if (status === undefined) return 'SubmissionSet→DocumentEntry HasMember has no SubmissionSetStatus slot';
      if (status === 'Original') {
        return inMessage(ctx, a.targetUuid) ? undefined : `SubmissionSetStatus Original names ${a.targetUuid}, which is not in the submission`;
      }
      if (status === 'Reference') {
        return inMessage(ctx, a.targetUuid) ? `SubmissionSetStatus Reference names ${a.targetUuid}, which is submitted here as Original` : undefined;
      }
      return `SubmissionSetStatus "${status}" is neither Original nor Reference`;
    },
  ),
  perObject(
    {
      id: 'HM-folder-patient',
      description: 'A DocumentEntry added to a Folder has the Folder patientId (NIST 12002)',
      errorCode: 'XDSPatientIdDoesNotMatch',
    },
    (sub) => sub.associations.filter(isHasMember),
    (a, ctx) => {
      const { source, target } = ends(ctx, a);
      if (source?.type !== 'Folder' || target?.type !== 'DocumentEntry') return undefined;
      if (source.patientId === undefined || target.patientId === undefined || source.patientId === target.patientId) return undefined;
      return `DocumentEntry ${a.targetUuid} (patient ${target.patientId}) cannot join Folder ${a.sourceUuid} (patient ${source.patientId})`;
    },
  ),
  perObject(
    {
      id: 'REL-source-submitted',
      description: 'A document relationship starts at a DocumentEntry of this submission',
      errorCode: 'XDSRegistryMetadataError',
    },
    (sub) => sub.associations.filter(isRelationship),
    (a, ctx) => {
      const source = ctx.inMessage.get(a.sourceUuid);
      return source?.type === 'DocumentEntry' ? undefined : `${typeName(a.associationType)} source ${a.sourceUuid} is not a DocumentEntry of this submission`;
    },
  ),
  perObject(
    {
      id: 'REL-target-document',
      description: 'A document relationship points at a DocumentEntry; RPLC and XFRM_RPLC at one already registered',
      errorCode: 'XDSRegistryMetadataError',
    },
    (sub) => sub.associations.filter(isRelationship),
    (a, ctx) => {
      const target = resolve(ctx, a.targetUuid);
      if (target === undefined) return undefined;
      if (target.type !== 'DocumentEntry') return `${typeName(a.associationType)} target ${a.targetUuid} is a ${target.type}, not a DocumentEntry`;
      if (REPLACING.includes(a.associationType) && inMessage(ctx, a.targetUuid)) {
        return `${typeName(a.associationType)} target ${a.targetUuid} must be a registered DocumentEntry, not one of this submission`;
      }
      return undefined;
    },
  ),
  perObject(
    {
      id: 'REL-target-approved',
      description: 'A deprecated DocumentEntry cannot be replaced, appended, transformed or signed (ITI TF-3 4.2.2)',
      errorCode: 'XDSRegistryDeprecatedDocumentError',
    },
    (sub) => sub.associations.filter(isRelationship),
    (a, ctx) => {
      const target = ctx.inMessage.has(a.targetUuid) ? undefined : ctx.registry.byUuid.get(a.targetUuid);
      if (target?.type !== 'DocumentEntry' || target.availabilityStatus === 'Approved') return undefined;
      return `${typeName(a.associationType)} target ${a.targetUuid} is ${target.availabilityStatus}`;
    },
  ),
  perObject(
    {
      id: 'REL-same-patient',
      description: 'Both documents of a relationship belong to the same patient',
      errorCode: 'XDSPatientIdDoesNotMatch',
    },
    (sub) => sub.associations.filter(isRelationship),
    (a, ctx) => {
      const { source, target } = ends(ctx, a);
      if (source?.type !== 'DocumentEntry' || target?.type !== 'DocumentEntry') return undefined;
      if (source.patientId === undefined || target.patientId === undefined || source.patientId === target.patientId) return undefined;
      return `${typeName(a.associationType)} links patient ${source.patientId} to a document of patient ${target.patientId}`;
    },
  ),
  {
    id: 'REL-replace-once',
    description: 'A DocumentEntry is replaced at most once per submission',
    errorCode: 'XDSRegistryMetadataError',
    check(ctx) {
      const replaced = new Set<string>();
      const errors: RegistryErrorInfo[] = [];
      for (const a of ctx.submission.associations.filter((x) => REPLACING.includes(x.associationType))) {
        if (replaced.has(a.targetUuid)) {
          errors.push(error('XDSRegistryMetadataError', `DocumentEntry ${a.targetUuid} is replaced more than once`, a.entryUuid));
        }
        replaced.add(a.targetUuid);
      }
      return errors;
    },
  },
];
