/**
 * Who may change or remove documents and their metadata (ITI-62, ITI-86, ITI-57 updates):
 * pure decisions over the Principal and the registry objects concerned, for the transactions that
 * neither read nor submit (a query or a retrieve has its decisions in policy.ts).
 *
 * The rules (docs/norway.md, README "Removing metadata"): the Principal passes the checks every
 * such request passes (subject, ATT-10, security level, a known purpose of use that is not a
 * citizen's: citizens do not administer documents); an assertion about one patient reaches only
 * that patient's records (ATT-4); a document administrator (`trust.policy.documentAdministration`:
 * an org.nr or a Volven 9060 role) may then change anything, anyone else only what its
 * organisation (organization-id, or its point of care) authored: an org.nr among the
 * authorInstitution values.
 */
import { bareOid, parseHd } from '../../registry/model/hl7.js';
import type { DocumentEntry, RegistryObject } from '../../registry/model/metadata.js';
import { isValidNorwegianId } from '../../registry/patients.js';
import type { TrustPolicyConfig } from './config.js';
import { CODE_SYSTEMS, samePatient, type Denial } from './policy.js';
import type { Principal } from './principal.js';

/** organisasjonsnummer (org.nr): the identifier system of Norwegian legal entities. */
export const ORGANIZATION_NUMBER_OID = '2.16.578.1.12.4.1.4.101';

const CITIZEN_PURPOSES: ReadonlySet<string> = new Set(['PATRQT', 'FAMRQT', 'PWATRNY']);

export type RemovalDecision = { readonly permit: true; readonly rule: string } | Denial;

/** What a principal may remove whatever the documents: nothing, everything (an administrator), or what its organisation authored. */
export type PrincipalDecision = Denial | { readonly permit: true; readonly administrator?: string };

const deny = (rule: string, reason: string): Denial => ({ permit: false, rule, reason });

/** The org.nr an identifier of the assertion names: an org.nr root, or no root (older tokens). */
function organisationNumber(id: { readonly extension: string; readonly root?: string } | undefined): string | undefined {
  if (id === undefined || id.extension.trim() === '') return undefined;
  return id.root === undefined || bareOid(id.root) === ORGANIZATION_NUMBER_OID ? id.extension.trim() : undefined;
}

/** The org.nr of the principal's organisation and of its point of care (both belong to it). */
export function principalOrganisations(principal: Principal): Set<string> {
  const out = new Set<string>();
  for (const id of [principal.organizationId, principal.childOrganizationId]) {
    const n = organisationNumber(id);
    if (n !== undefined) out.add(n);
  }
  return out;
}

/**
 * The org.nr an authorInstitution (XON) names: component 10 under the org.nr assigning authority
 * (component 6), as Norwegian metadata writes it (`Name^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^<org.nr>`),
 * or an OID under the org.nr arc in component 10 without an assigning authority (ITI TF-3
 * 4.2.3.1.7: an organisation identifier that is an OID stands alone).
 */
export function xonOrganisationNumber(xon: string): string | undefined {
  const c = xon.split('^');
  const id = (c[9] ?? '').trim();
  if (id === '') return undefined;
  const authority = parseHd(c[5] ?? '').universalId.trim();
  if (authority !== '') return bareOid(authority) === ORGANIZATION_NUMBER_OID ? id : undefined;
  const oid = bareOid(id);
  return oid.startsWith(`${ORGANIZATION_NUMBER_OID}.`) ? oid.slice(ORGANIZATION_NUMBER_OID.length + 1) : undefined;
}

/** The org.nr of every authorInstitution of a DocumentEntry. */
export function authorOrganisations(entry: Pick<DocumentEntry, 'authors'>): Set<string> {
  const out = new Set<string>();
  for (const author of entry.authors) {
    for (const xon of author.institutions) {
      const n = xonOrganisationNumber(xon);
      if (n !== undefined) out.add(n);
    }
  }
  return out;
}

/**
 * The checks that do not depend on the document, and whether the principal administers documents.
 * `action` names what is asked in the citizen's refusal: removing (ITI-62, ITI-86) or changing (ITI-57).
 */
export function decideRemover(principal: Principal, options: TrustPolicyConfig, action: 'remove' | 'change' = 'remove'): PrincipalDecision {
  if (principal.subjectId.trim() === '') return deny('missing-attribute', 'the assertion names no subject');
  const synthetic = { synthetic: options.acceptSyntheticIds };
  if (!isValidNorwegianId(principal.subjectId, 'F', synthetic) && !isValidNorwegianId(principal.subjectId, 'D', synthetic)) {
    return deny('ATT-10', 'the user id is not a valid fødselsnummer or D-number');
  }
  if (!principal.securityLevel || !options.securityLevels.includes(principal.securityLevel)) {
    return deny('security-level', `security level ${principal.securityLevel ?? '(none)'} is not accepted`);
  }
  if (!principal.purposeOfUse) return deny('purpose-of-use', `unknown purpose of use ${principal.purposeOfUseCode?.code ?? '(none)'}`);
  if (CITIZEN_PURPOSES.has(principal.purposeOfUse)) return deny('citizen', `citizens may not ${action} documents`);

  const admin = options.documentAdministration;
  const organisation = organisationNumber(principal.organizationId);
  if (organisation !== undefined && admin.organizations.includes(organisation)) return { permit: true, administrator: 'document-administration-organization' };
  const role = principal.role;
  if (role !== undefined && role.codeSystem !== undefined && bareOid(role.codeSystem) === CODE_SYSTEMS.role && admin.roles.includes(role.code)) {
    return { permit: true, administrator: 'document-administration-role' };
  }
  if (principalOrganisations(principal).size === 0) return deny('missing-attribute', 'the assertion names no organisation number (organization-id)');
  return { permit: true };
}

/** Whether a principal that passed `decideRemover` may remove this document (`entry`: its registry entry, if any). */
export function decideRemoval(principal: Principal, remover: Exclude<PrincipalDecision, Denial>, documentUniqueId: string, entry: DocumentEntry | undefined): RemovalDecision {
  // ATT-4: an assertion about one patient does not reach another patient's records.
  if (principal.patientId !== undefined && entry?.patientId !== undefined && !samePatient(principal.patientId, entry.patientId)) {
    return deny('ATT-4', `document ${documentUniqueId} belongs to another patient than the assertion’s resource-id`);
  }
  if (remover.administrator !== undefined) return { permit: true, rule: remover.administrator };
  if (entry === undefined) {
    return deny('document-administration', `document ${documentUniqueId} has no registry entry naming its author; only a document administrator may remove it`);
  }
  const ours = principalOrganisations(principal);
  for (const n of authorOrganisations(entry)) if (ours.has(n)) return { permit: true, rule: 'author-organization' };
  return deny('document-administration', `document ${documentUniqueId} was not authored by the user’s organisation`);
}

/**
 * Whether a principal that passed `decideRemover` may remove or change these registry objects
 * (ITI-62, ITI-57): ATT-4 for every object with a patient; then an administrator may, anyone else only when
 * every DocumentEntry and SubmissionSet named was authored by its organisation, every Association
 * hangs on such an object (`objectsOf` looks up the ends not among `objects`), and no Folder is
 * named (a folder is shared by whoever files into it: an administrator's).
 */
export async function decideObjectsChange(
  principal: Principal,
  maintainer: Exclude<PrincipalDecision, Denial>,
  objects: readonly RegistryObject[],
  objectsOf: (entryUuids: readonly string[]) => Promise<readonly RegistryObject[]>,
): Promise<Denial | undefined> {
  for (const o of objects) {
    if (o.type !== 'Association' && principal.patientId !== undefined && o.patientId !== undefined && !samePatient(principal.patientId, o.patientId)) {
      return deny('ATT-4', `${o.entryUuid} belongs to another patient than the assertion's resource-id`);
    }
  }
  if (maintainer.administrator !== undefined) return undefined;
  const ours = principalOrganisations(principal);
  const authoredByUs = (o: RegistryObject | undefined): boolean =>
    (o?.type === 'DocumentEntry' || o?.type === 'SubmissionSet') && [...authorOrganisations(o)].some((n) => ours.has(n));
  const byId = new Map(objects.map((o) => [o.entryUuid, o]));
  for (const o of objects) {
    if (o.type === 'Folder') return deny('document-administration', `folder ${o.entryUuid} may be changed only by a document administrator`);
    if (o.type === 'Association') {
      const missing = [o.sourceUuid, o.targetUuid].filter((id) => !byId.has(id));
      const ends = [byId.get(o.sourceUuid), byId.get(o.targetUuid), ...(missing.length > 0 ? await objectsOf(missing) : [])];
      if (!ends.some(authoredByUs)) return deny('document-administration', `association ${o.entryUuid} relates nothing the user's organisation authored`);
    } else if (!authoredByUs(o)) {
      return deny('document-administration', `${o.entryUuid} was not authored by the user's organisation`);
    }
  }
  return undefined;
}
