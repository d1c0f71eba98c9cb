/**
 * The shape of a validation rule: data (id, description, error code) plus a pure check over the
 * submission and a snapshot of what the registry already holds. Rules never touch a store; the
 * register operation loads the snapshot first, so every rule is testable on plain objects.
 */
import type { ErrorCode, RegistryErrorInfo } from '../model/errors.js';
import { error } from '../model/errors.js';
import type { Association, DocumentEntry, Folder, RegistryObject, Submission, SubmissionSet } from '../model/metadata.js';
import type { PatientIdPolicy } from '../patients.js';

/** What the registry holds that the submission refers to, loaded before validation. */
export interface RegistrySnapshot {
  /** Registered objects whose entryUuid the submission mentions (ids, association ends, ObjectRefs). */
  readonly byUuid: ReadonlyMap<string, RegistryObject>;
  /** Registered DocumentEntries, SubmissionSets and Folders that share a uniqueId with the submission. */
  readonly byUniqueId: ReadonlyMap<string, readonly RegistryObject[]>;
}

export const EMPTY_SNAPSHOT: RegistrySnapshot = Object.freeze({ byUuid: new Map(), byUniqueId: new Map() });

export interface ValidationContext {
  readonly patientIds: PatientIdPolicy;
  /** Defaults to an empty registry: only the message itself is checked. */
  readonly registry?: RegistrySnapshot;
  /** This node's homeCommunityId (urn:oid:…); submitted objects may only name this community. */
  readonly homeCommunityId?: string;
}

export type SubmittedObject = SubmissionSet | DocumentEntry | Folder | Association;

/** What a rule sees: the submission, an index of its objects, the policy and the registry snapshot. */
export interface RuleContext {
  readonly submission: Submission;
  readonly patientIds: PatientIdPolicy;
  readonly registry: RegistrySnapshot;
  readonly homeCommunityId?: string;
  /** The submission's objects by (submitted) id; the first object wins when ids repeat. */
  readonly inMessage: ReadonlyMap<string, SubmittedObject>;
}

/** A rule over a context of type C: RuleContext, or a richer one (ITI-57's UpdateRuleContext). */
export interface Rule<C extends RuleContext = RuleContext> {
  readonly id: string;
  readonly description: string;
  readonly errorCode: ErrorCode;
  check(ctx: C): RegistryErrorInfo[];
}

/** Every submitted object except associations, SubmissionSet first. */
export function registryPackagesAndEntries(sub: Submission): (SubmissionSet | DocumentEntry | Folder)[] {
  return [sub.submissionSet, ...sub.documentEntries, ...sub.folders];
}

export function allObjects(sub: Submission): SubmittedObject[] {
  return [...registryPackagesAndEntries(sub), ...sub.associations];
}

/** A rule that inspects each object of one kind and reports at most one problem per object. */
export function perObject<T extends { readonly entryUuid: string }, C extends RuleContext = RuleContext>(
  meta: { id: string; description: string; errorCode: ErrorCode },
  select: (sub: Submission) => readonly T[],
  problem: (obj: T, ctx: C) => string | undefined,
): Rule<C> {
  return {
    ...meta,
    check(ctx) {
      const errors: RegistryErrorInfo[] = [];
      for (const obj of select(ctx.submission)) {
        const message = problem(obj, ctx);
        if (message !== undefined) errors.push(error(meta.errorCode, message, obj.entryUuid));
      }
      return errors;
    },
  };
}

/**
 * The rules of a list by id, in the order given; a rule renamed elsewhere fails here at load, not
 * silently in a request. For transaction lists built from another's rules (ITI-57, ITI-92).
 */
export function pickRules<R extends { readonly id: string }>(rules: readonly R[], ids: readonly string[]): R[] {
  return ids.map((id) => {
    const rule = rules.find((r) => r.id === id);
    if (rule === undefined) throw new Error(`no rule ${id}`);
    return rule;
  });
}

/** Resolves an id against the message first, then the registry snapshot. */
export function resolve(ctx: RuleContext, id: string): SubmittedObject | RegistryObject | undefined {
  return ctx.inMessage.get(id) ?? ctx.registry.byUuid.get(id);
}

export function isBlank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}
