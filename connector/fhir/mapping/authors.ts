/**
 * XDS Author ↔ FHIR author references to contained Practitioner / PractitionerRole / Organization
 * (MHD Comprehensive: authors are contained, ITI TF-3 4.5.1.1).
 *
 * One XDS Author becomes one author reference:
 * - a person only (with telecoms) → Practitioner;
 * - institutions only (with telecoms) → Organization;
 * - anything else (person and institution, or a role or specialty) → PractitionerRole, whose
 *   practitioner is the person, organization the institution, code the roles, specialty the
 *   specialties, telecom the telecoms;
 * - only telecoms → a Practitioner with nothing but them.
 * Several institutions of one author are a partOf chain, broadest first: XDS lists them without
 * saying how they relate, and in Norway the list is the legal entity (org.nr) then the department
 * (RESH), which is exactly Organization.partOf. The author references the last (narrowest) one.
 *
 * Reading accepts what FHIR sources send besides that. NHN's reference sample lists a
 * Practitioner, a PractitionerRole of that Practitioner and an Organization, and the Organization
 * again, and a department Organization partOf it, as four author references of one author: a
 * Practitioner or Organization that a PractitionerRole of the list already names is not a second
 * author, and an Organization partOf an institution of a role joins that role's author.
 */
import type { Author } from '../../../registry/model/metadata.js';
import { slotExtension, slotsOf as extraSlotsOf } from './extra.js';
import {
  PRACTITIONER_ROLE,
  type ContainedResource,
  type Organization,
  type Practitioner,
  type PractitionerRole,
  type Reference,
} from './fhir.js';
import {
  codedStringToConcept,
  compact,
  conceptToCodedString,
  contactPointToXtn,
  organizationToXon,
  practitionerToXcn,
  xcnToPractitioner,
  xonToOrganization,
  xtnToContactPoint,
} from './hl7v2.js';
import { get, getArr, getStr, isObject, resolveReference, type Json, type ResourceLookup } from './read.js';

export interface AuthorsInFhir {
  readonly contained: ContainedResource[];
  readonly references: Reference[];
}

/** The authors as contained resources (ids `<prefix>1…`) and one reference each. */
export function authorsToFhir(authors: readonly Author[], prefix: string): AuthorsInFhir {
  const contained: ContainedResource[] = [];
  const references = authors.map((author, i) => authorToFhir(author, `${prefix}${i + 1}`, contained));
  return { contained, references };
}

function authorToFhir(author: Author, id: string, contained: ContainedResource[]): Reference {
  const person = author.person === undefined ? undefined : xcnToPractitioner(author.person, `${id}-person`);
  const orgs = institutionChain(author.institutions, `${id}-org`);
  const telecom = author.telecommunications.map(xtnToContactPoint);
  const roles = author.roles.map(codedStringToConcept);
  const specialties = author.specialties.map(codedStringToConcept);
  const leaf = orgs[orgs.length - 1];

  let target: ContainedResource;
  if (roles.length > 0 || specialties.length > 0 || (person !== undefined && leaf !== undefined)) {
    const role: PractitionerRole = { resourceType: 'PractitionerRole', id };
    if (person) role.practitioner = { reference: `#${person.id}`, type: 'Practitioner' };
    if (leaf) role.organization = { reference: `#${leaf.id}`, type: 'Organization' };
    if (roles.length > 0) role.code = roles;
    if (specialties.length > 0) role.specialty = specialties;
    if (telecom.length > 0) role.telecom = telecom;
    target = role;
  } else if (person !== undefined) {
    if (telecom.length > 0) person.telecom = telecom;
    target = person;
  } else if (leaf !== undefined) {
    if (telecom.length > 0) leaf.telecom = telecom;
    target = leaf;
  } else {
    const nobody: Practitioner = { resourceType: 'Practitioner', id };
    if (telecom.length > 0) nobody.telecom = telecom;
    target = nobody;
  }
  if (author.extraSlots !== undefined && author.extraSlots.length > 0) {
    target.extension = [...(target.extension ?? []), ...author.extraSlots.map((s) => slotExtension(s))];
  }
  if (person !== undefined) contained.push(person);
  contained.push(...orgs);
  if (target !== person && !orgs.includes(target as Organization)) contained.push(target);
  return { reference: `#${target.id}`, type: target.resourceType };
}

/** XON values as Organizations, each partOf the one before it. */
export function institutionChain(xons: readonly string[], idPrefix: string): Organization[] {
  const orgs = xons.map((xon, k) => xonToOrganization(xon, `${idPrefix}${k + 1}`));
  for (let k = 1; k < orgs.length; k++) orgs[k]!.partOf = { reference: `#${orgs[k - 1]!.id}`, type: 'Organization' };
  return orgs;
}

type Res = Record<string, unknown>;

/** An Organization and the ones it is partOf, broadest first (cycles and runaway chains cut off). */
export function organizationChain(org: Res, container: Json, lookup?: ResourceLookup): Res[] {
  const chain: Res[] = [org];
  let current: Res | undefined = org;
  while (chain.length < 16) {
    const parent = resolveReference(get(current, 'partOf'), container, lookup);
    if (parent === undefined || parent['resourceType'] !== 'Organization' || chain.includes(parent)) break;
    chain.unshift(parent);
    current = parent;
  }
  return chain;
}

interface Draft {
  person?: string;
  institutions: Res[];
  roles: string[];
  specialties: string[];
  telecoms: string[];
  extra: ReturnType<typeof extraSlotsOf>;
}

function telecomsOf(resource: Json): string[] {
  return getArr(resource, 'telecom').flatMap((t) => contactPointToXtn(t) ?? []);
}

function conceptsOf(resource: Json, key: string): string[] {
  return getArr(resource, key).flatMap((c) => conceptToCodedString(c) ?? []);
}

/** A person from a reference that is not resolvable here but names someone (identifier, display). */
function logicalPerson(reference: Json): string | undefined {
  const id = get(reference, 'identifier');
  const value = getStr(id, 'value');
  const oid = /^urn:oid:/i.test(getStr(id, 'system') ?? '') ? getStr(id, 'system')!.slice(8) : undefined;
  const display = getStr(reference, 'display');
  if (value === undefined && display === undefined) return undefined;
  return practitionerToXcn({ identifier: value === undefined ? [] : [{ system: oid === undefined ? undefined : `urn:oid:${oid}`, value }], name: display === undefined ? [] : [{ family: display }] });
}

/** The XDS authors of a list of author references (see the module comment for the merging rules). */
export function fhirToAuthors(references: readonly Json[], container: Json, lookup?: ResourceLookup): Author[] {
  const resolved = references.map((ref) => ({ ref, res: resolveReference(ref, container, lookup) }));
  const roleDrafts = new Map<Res, Draft>();
  for (const { res } of resolved) {
    if (res?.['resourceType'] !== PRACTITIONER_ROLE || roleDrafts.has(res)) continue;
    const practitioner = resolveReference(get(res, 'practitioner'), container, lookup);
    const org = resolveReference(get(res, 'organization'), container, lookup);
    roleDrafts.set(res, {
      person: practitioner === undefined ? undefined : practitionerToXcn(practitioner),
      institutions: org === undefined ? [] : organizationChain(org, container, lookup),
      roles: conceptsOf(res, 'code'),
      specialties: conceptsOf(res, 'specialty'),
      telecoms: [...telecomsOf(res), ...telecomsOf(practitioner)],
      extra: extraSlotsOf(res),
    });
  }
  const rolePractitioners = new Set([...roleDrafts.keys()].map((r) => resolveReference(get(r, 'practitioner'), container, lookup)).filter(isObject));

  const drafts: Draft[] = [];
  const seen = new Set<Res>();
  for (const { ref, res } of resolved) {
    if (res === undefined) {
      const person = logicalPerson(ref);
      if (person !== undefined) drafts.push({ person, institutions: [], roles: [], specialties: [], telecoms: [], extra: [] });
      continue;
    }
    if (seen.has(res)) continue;
    seen.add(res);
    const type = res['resourceType'];
    if (type === PRACTITIONER_ROLE) {
      drafts.push(roleDrafts.get(res)!);
    } else if (type === 'Organization') {
      const chain = organizationChain(res, container, lookup);
      const owner = [...roleDrafts.values()].find((d) => d.institutions.some((i) => chain.includes(i)));
      if (owner === undefined) {
        drafts.push({ institutions: chain, roles: [], specialties: [], telecoms: telecomsOf(res), extra: extraSlotsOf(res) });
      } else {
        for (const org of chain) if (!owner.institutions.includes(org)) owner.institutions.push(org);
      }
    } else if (!rolePractitioners.has(res)) {
      // Practitioner, or another person-like author (Patient, RelatedPerson): name and identifier.
      drafts.push({ person: practitionerToXcn(res), institutions: [], roles: [], specialties: [], telecoms: telecomsOf(res), extra: extraSlotsOf(res) });
    }
  }
  return drafts.map((d) =>
    compact({
      person: d.person,
      institutions: d.institutions.flatMap((o) => organizationToXon(o) ?? []),
      roles: d.roles,
      specialties: d.specialties,
      telecommunications: d.telecoms,
      extraSlots: d.extra.length > 0 ? d.extra : undefined,
    }),
  );
}
