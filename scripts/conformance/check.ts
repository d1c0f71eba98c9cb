/**
 * Checks of a step's outcome: ExpectedStatus, ExpectedErrorCode/ExpectedErrorMessage, the
 * ExpectedContents validators of the NIST test engine (Validator.run_test_assertion, same names
 * and the same rules) and XPath assertions over the step log.
 */
import { CLASSIFICATION_NODE, SCHEME } from './metadata.js';
import { attr, childElementsOf, type Doc, type Elem, localNameOf, xpathBoolean } from './dom.js';

export interface RegistryErrorInfo {
  readonly errorCode: string;
  readonly codeContext: string;
  readonly severity: string;
  readonly location: string;
}

/** Status URN suffix (Success | Failure | PartialSuccess) of a RegistryResponse-bearing body, or undefined. */
export function responseStatus(body: Elem | undefined): string | undefined {
  if (!body) return undefined;
  let status = attr(body, 'status');
  if (status === undefined) {
    const rr = childElementsOf(body, 'RegistryResponse')[0];
    status = rr ? attr(rr, 'status') : undefined;
  }
  if (status === undefined) return undefined;
  return status.slice(status.lastIndexOf(':') + 1);
}

export function registryErrors(body: Elem | undefined): RegistryErrorInfo[] {
  if (!body) return [];
  const out: RegistryErrorInfo[] = [];
  const walk = (e: Elem): void => {
    for (const c of childElementsOf(e)) {
      if (localNameOf(c) === 'RegistryError') {
        out.push({
          errorCode: attr(c, 'errorCode') ?? '',
          codeContext: attr(c, 'codeContext') ?? (c.textContent ?? '').trim(),
          severity: (attr(c, 'severity') ?? '').replace(/^.*:/, ''),
          location: attr(c, 'location') ?? '',
        });
      } else walk(c);
    }
  };
  walk(body);
  return out;
}

export interface Outcome {
  readonly status?: string;
  readonly fault?: { code: string; reason: string };
  readonly errors: readonly RegistryErrorInfo[];
}

function describe(o: Outcome): string {
  if (o.fault) return `SOAP Fault (${o.fault.code}: ${o.fault.reason})`;
  const errs = o.errors.map((e) => `${e.errorCode}${e.codeContext ? ` "${e.codeContext}"` : ''}`);
  return `${o.status ?? 'no status'}${errs.length ? ` with errors ${errs.join('; ')}` : ''}`;
}

/** Compares status and error codes with the plan; returns the reasons for failure (empty = pass). */
export function checkStatus(expected: readonly string[], expectedCodes: readonly string[], o: Outcome): string[] {
  const want = expected.length > 0 ? expected : ['Success'];
  const got = o.fault ? 'Fault' : o.status ?? 'none';
  const problems: string[] = [];
  if (!want.includes(got)) problems.push(`expected ${want.join(' or ')}, got ${describe(o)}`);
  else if (got === 'Success' && o.errors.some((e) => e.severity === 'Error')) {
    problems.push(`status Success but RegistryErrorList holds errors: ${describe(o)}`);
  }
  for (const code of expectedCodes) {
    const found = o.errors.some((e) => e.errorCode === code || e.codeContext.includes(code));
    if (!found) problems.push(`expected error code ${code}, got ${describe(o)}`);
  }
  return problems;
}

/** A view of an ebRIM 3.0 object list, as the toolkit's Metadata class presents it to Validator. */
export class MetadataView {
  readonly extrinsicObjects: Elem[] = [];
  readonly objectRefs: Elem[] = [];
  readonly submissionSets: Elem[] = [];
  readonly folders: Elem[] = [];
  readonly associations: Elem[] = [];

  constructor(root: Elem | Doc | undefined) {
    if (!root) return;
    const lists: Elem[] = [];
    const findLists = (e: Elem): void => {
      for (const c of childElementsOf(e)) {
        if (localNameOf(c) === 'RegistryObjectList' || localNameOf(c) === 'LeafRegistryObjectList') lists.push(c);
        else findLists(c);
      }
    };
    const top = (('documentElement' in root ? root.documentElement : root) ?? undefined) as Elem | undefined;
    if (!top) return;
    if (localNameOf(top) === 'RegistryObjectList') lists.push(top);
    else findLists(top);
    const packages: Elem[] = [];
    const topClassifications: Elem[] = [];
    for (const list of lists) {
      for (const o of childElementsOf(list)) {
        const n = localNameOf(o);
        if (n === 'ExtrinsicObject') this.extrinsicObjects.push(o);
        else if (n === 'ObjectRef') this.objectRefs.push(o);
        else if (n === 'RegistryPackage') packages.push(o);
        else if (n === 'Association') this.associations.push(o);
        else if (n === 'Classification') topClassifications.push(o);
      }
    }
    const classifiedAs = (pkg: Elem, node: string): boolean => {
      const id = attr(pkg, 'id');
      const nested = childElementsOf(pkg, 'Classification').some((c) => attr(c, 'classificationNode') === node);
      return nested || topClassifications.some((c) => attr(c, 'classificationNode') === node && attr(c, 'classifiedObject') === id);
    };
    const hasIdentifier = (pkg: Elem, scheme: string): boolean =>
      childElementsOf(pkg, 'ExternalIdentifier').some((e) => attr(e, 'identificationScheme') === scheme);
    for (const p of packages) {
      if (classifiedAs(p, CLASSIFICATION_NODE.submissionSet) || hasIdentifier(p, SCHEME.ssUniqueId)) this.submissionSets.push(p);
      else if (classifiedAs(p, CLASSIFICATION_NODE.folder) || hasIdentifier(p, SCHEME.folUniqueId)) this.folders.push(p);
    }
  }

  get submissionSet(): Elem | undefined {
    return this.submissionSets[0];
  }
}

export const simpleStatus = (e: Elem | undefined): string => {
  const s = e ? attr(e, 'status') : undefined;
  return s === undefined ? 'null' : s.slice(s.lastIndexOf(':') + 1);
};
export const simpleAssocType = (a: Elem): string => {
  const t = attr(a, 'associationType') ?? '';
  return t.slice(t.lastIndexOf(':') + 1);
};

/** Linkage lookups that the DocumentEntries validator needs (UseId inside ExpectedContents). */
export type UseIdResolver = (useId: Elem) => string | undefined;

/**
 * The ExpectedContents validators. Each one appends errors; the names, the combination run per
 * element and the order of checks follow the NIST test engine's Validator.
 */
export class ContentsValidator {
  readonly errors: string[] = [];
  constructor(private readonly m: MetadataView, private readonly resolveUseId?: UseIdResolver) {}

  private err(msg: string): void {
    this.errors.push(msg);
  }

  run(expectedContents: Elem): string[] {
    for (const ec of childElementsOf(expectedContents)) {
      const name = localNameOf(ec);
      const countText = attr(ec, 'count');
      const count = countText === undefined ? -1 : Number.parseInt(countText, 10);
      if (name === 'DocumentEntries') this.documentEntries(ec);
      else this.assertion(name, count);
    }
    return this.errors;
  }

  assertion(name: string, count: number): void {
    switch (name) {
      case 'SSwithOneDoc': this.ss1Doc(); this.ssApproved(); break;
      case 'SSwithOneDocOnly': this.ss1Doc(); break;
      case 'SSwithTwoDocOnly': this.ss2Doc(); break;
      case 'SSwithTwoDoc': this.ss2Doc(); this.ssApproved(); break;
      case 'NoSubmissionSet': this.hasNoSubmissionSet(); break;
      case 'NoDocument': this.hasDocuments(0); break;
      case 'SSApproved': this.ssApproved(); break;
      case 'DocDep': this.docsStatus('Deprecated'); break;
      case 'DocApp': this.docsStatus('Approved'); break;
      case 'HasRPLC': this.uniqueRelationship('RPLC'); break;
      case 'HasXFRM_RPLC': this.uniqueRelationship('XFRM_RPLC'); break;
      case 'HasAPND': this.uniqueRelationship('APND'); break;
      case 'DocRplcDoc': this.docRplcDoc(); break;
      case 'OneDocDep': this.oneDoc('Deprecated'); break;
      case 'OneDocApp': this.oneDoc('Approved'); break;
      case 'FolApp': this.folsStatus('Approved'); break;
      case 'FolDep': this.folsStatus('Deprecated'); break;
      case 'SSwithOneDocOneFol': this.ssWithOneDocOneFol(); break;
      case 'SSwithTwoDocOneFol': this.ssWithTwoDocOneFol(); break;
      case 'SSwithTwoDocOneFolOneDocInFol': this.ssWithTwoDocOneFolOneDocInFol(); break;
      case 'SSwithOneFol': this.ssWithOneFol(); break;
      case 'None': {
        this.hasNoSubmissionSet();
        this.hasDocuments(0);
        this.hasFolders(0);
        if (this.errors.length === 0) this.hasAssociations(0);
        break;
      }
      case 'ObjectRefs': {
        this.count('ObjectRefs', this.m.objectRefs.length, count);
        this.hasNoSubmissionSet();
        this.hasDocuments(0);
        this.hasFolders(0);
        this.hasAssociations(0);
        break;
      }
      case 'Documents': this.hasDocuments(count); break;
      case 'Folders': this.hasFolders(count); break;
      case 'SubmissionSets': this.count('SubmissionSets', this.m.submissionSets.length, count); break;
      case 'Associations': this.hasAssociations(count); break;
      case 'HasSnapshotPattern': this.hasSnapshotPattern(); break;
      default: this.err(`ExpectedContents: validator ${name} is not understood`);
    }
  }

  private count(what: string, found: number, expected: number): boolean {
    if (found !== expected) {
      this.err(`Found ${found} ${what} instead of ${expected}`);
      return false;
    }
    return true;
  }
  private hasDocuments(n: number): boolean { return this.count('Documents', this.m.extrinsicObjects.length, n); }
  private hasFolders(n: number): boolean { return this.count('Folders', this.m.folders.length, n); }
  private hasAssociations(n: number): boolean { return this.count('Associations', this.m.associations.length, n); }

  private hasSubmissionSet(): boolean {
    if (!this.m.submissionSet) {
      this.err('No Submission Set found');
      return false;
    }
    return true;
  }
  private hasNoSubmissionSet(): void {
    if (this.m.submissionSet) this.err('Submission Set found');
  }

  private findAssociation(source: Elem | undefined, targetIds: readonly string[], type: string): Elem | undefined {
    const sourceId = source ? attr(source, 'id') ?? '' : '';
    for (const a of this.m.associations) {
      if ((attr(a, 'sourceObject') ?? '') !== sourceId) continue;
      if (!targetIds.includes(attr(a, 'targetObject') ?? '')) continue;
      if (simpleAssocType(a) !== type || !(attr(a, 'associationType') ?? '').includes(':')) continue;
      return a;
    }
    this.err(`${type} association missing between sourceObject ${sourceId} and targetObject ${targetIds.length > 1 ? '(one of) ' : ''}${targetIds.join(', ')}`);
    return undefined;
  }
  private hasAssociation(source: Elem | undefined, target: Elem | undefined, type: string): Elem | undefined {
    return this.findAssociation(source, [target ? attr(target, 'id') ?? '' : ''], type);
  }
  private hasAssociationWithOneTarget(source: Elem | undefined, targets: readonly Elem[], type: string): Elem | undefined {
    return this.findAssociation(source, targets.map((t) => attr(t, 'id') ?? ''), type);
  }

  private ss1Doc(): void {
    const before = this.errors.length;
    this.hasSubmissionSet();
    this.hasDocuments(1);
    this.hasAssociations(1);
    if (this.errors.length > before) return;
    this.hasAssociation(this.m.submissionSet, this.m.extrinsicObjects[0], 'HasMember');
  }
  private ss2Doc(): void {
    const before = this.errors.length;
    this.hasSubmissionSet();
    this.hasDocuments(2);
    this.hasAssociations(2);
    if (this.errors.length > before) return;
    this.hasAssociation(this.m.submissionSet, this.m.extrinsicObjects[0], 'HasMember');
    this.hasAssociation(this.m.submissionSet, this.m.extrinsicObjects[1], 'HasMember');
  }
  private ssApproved(): void {
    const ss = this.m.submissionSet;
    if (!ss) return this.err('No Submission Set');
    if (simpleStatus(ss) !== 'Approved') this.err(`SubmissionSet ${attr(ss, 'id')} has status ${simpleStatus(ss)} instead of 'Approved'`);
  }
  private docsStatus(status: string): void {
    for (const eo of this.m.extrinsicObjects) {
      if (simpleStatus(eo) !== status) {
        this.err(`ExtrinsicObject ${attr(eo, 'id')} has status ${simpleStatus(eo)} instead of '${status}'`);
        return;
      }
    }
  }
  private folsStatus(status: string): void {
    for (const f of this.m.folders) {
      if (simpleStatus(f) !== status) {
        this.err(`Folder ${attr(f, 'id')} has status ${simpleStatus(f)} instead of '${status}'`);
        return;
      }
    }
  }
  private oneDoc(status: string): void {
    const n = this.m.extrinsicObjects.filter((eo) => simpleStatus(eo) === status).length;
    if (n !== 1) this.err(`Found ${n} ${status} ExtrinsicObjects instead of one`);
  }
  private uniqueRelationship(type: string): void {
    const targets = new Set<string>();
    let found = false;
    for (const a of this.m.associations) {
      if (simpleAssocType(a) !== type) continue;
      found = true;
      const t = attr(a, 'targetObject') ?? '';
      if (targets.has(t)) this.err(`Multiple ${type} associations found for same Document`);
      targets.add(t);
    }
    if (!found) this.err(`${type} association not found.`);
  }
  private docRplcDoc(): void {
    this.hasDocuments(2);
    this.hasAssociations(1);
    const [a, b] = this.m.extrinsicObjects;
    if (!a || !b) return;
    const [newer, older] = simpleStatus(a) === 'Approved' ? [a, b] : [b, a];
    this.hasAssociation(newer, older, 'RPLC');
    if (simpleStatus(older) !== 'Deprecated') this.err(`ExtrinsicObject ${attr(older, 'id')} has status ${simpleStatus(older)} instead of 'Deprecated'`);
  }
  private ssWithOneFol(): void {
    const before = this.errors.length;
    this.hasSubmissionSet();
    this.hasDocuments(0);
    this.hasFolders(1);
    if (this.errors.length > before) return;
    this.hasAssociations(1);
    this.hasAssociation(this.m.submissionSet, this.m.folders[0], 'HasMember');
  }
  private ssWithOneDocOneFol(): void {
    const before = this.errors.length;
    this.hasSubmissionSet();
    this.hasDocuments(1);
    this.hasFolders(1);
    if (this.errors.length > before) return;
    this.hasAssociations(4);
    const ss = this.m.submissionSet;
    const doc = this.m.extrinsicObjects[0];
    const fol = this.m.folders[0];
    this.hasAssociation(ss, doc, 'HasMember');
    this.hasAssociation(ss, fol, 'HasMember');
    const folDoc = this.hasAssociation(fol, doc, 'HasMember');
    this.hasAssociationWithOneTarget(ss, folDoc ? [folDoc] : [], 'HasMember');
  }
  private ssWithTwoDocOneFol(): void {
    const before = this.errors.length;
    this.hasSubmissionSet();
    this.hasDocuments(2);
    this.hasFolders(1);
    if (this.errors.length > before) return;
    this.hasAssociations(7);
    const ss = this.m.submissionSet;
    const [d0, d1] = this.m.extrinsicObjects;
    const fol = this.m.folders[0];
    this.hasAssociation(ss, d0, 'HasMember');
    this.hasAssociation(ss, d1, 'HasMember');
    this.hasAssociation(ss, fol, 'HasMember');
    const folderDocAssocs: Elem[] = [];
    for (const d of [d0, d1]) {
      const a = this.hasAssociation(fol, d, 'HasMember');
      if (a) folderDocAssocs.push(a);
    }
    const first = this.hasAssociationWithOneTarget(ss, folderDocAssocs, 'HasMember');
    if (first) {
      const remaining = folderDocAssocs.filter((a) => attr(a, 'id') !== attr(first, 'targetObject'));
      this.hasAssociationWithOneTarget(ss, remaining, 'HasMember');
    }
  }
  private ssWithTwoDocOneFolOneDocInFol(): void {
    const before = this.errors.length;
    this.hasSubmissionSet();
    this.hasDocuments(2);
    this.hasFolders(1);
    if (this.errors.length > before) return;
    this.hasAssociations(5);
    const ss = this.m.submissionSet;
    const fol = this.m.folders[0];
    this.hasAssociation(ss, this.m.extrinsicObjects[0], 'HasMember');
    this.hasAssociation(ss, this.m.extrinsicObjects[1], 'HasMember');
    this.hasAssociation(ss, fol, 'HasMember');
    const folDoc = this.hasAssociationWithOneTarget(fol, this.m.extrinsicObjects, 'HasMember');
    if (folDoc) this.hasAssociation(ss, folDoc, 'HasMember');
  }
  private hasSnapshotPattern(): void {
    const snaps = this.m.associations.filter((a) => simpleAssocType(a) === 'IsSnapshotOf');
    if (snaps.length !== 1) return this.err(snaps.length === 0 ? 'No IsSnapshotOf Associations found' : 'Multiple IsSnapshotOf Associations found');
    const byId = (id: string | undefined): Elem | undefined => this.m.extrinsicObjects.find((e) => attr(e, 'id') === id);
    const source = byId(attr(snaps[0]!, 'sourceObject'));
    const target = byId(attr(snaps[0]!, 'targetObject'));
    if (!source) return this.err(`SnapShot DocumentEntry (${attr(snaps[0]!, 'sourceObject')}) is not in query results`);
    if (!target) return this.err(`On Demand DocumentEntry (${attr(snaps[0]!, 'targetObject')}) is not in query results`);
    if (simpleStatus(source) !== 'Approved') return this.err('SnapShot DocumentEntry is Deprecated');
    if (simpleStatus(target) !== 'Approved') return this.err('On Demand DocumentEntry is Deprecated');
    if (attr(target, 'objectType') !== ON_DEMAND) return this.err(`On Demand DocumentEntry should have objectType of ${ON_DEMAND}`);
    if (attr(source, 'objectType') !== STABLE) this.err(`Stable DocumentEntry should have objectType of ${STABLE}`);
  }

  /** DocumentEntries: MustOnlyInclude / Include / Exclude lists of UseId-named entries, DocumentEntryType. */
  private documentEntries(ec: Elem): void {
    for (const part of childElementsOf(ec)) {
      const mode = localNameOf(part);
      if (mode === 'DocumentEntryType') {
        const want = (part.textContent ?? '').trim();
        for (const eo of this.m.extrinsicObjects) {
          if (attr(eo, 'objectType') !== want) {
            this.err(`Metadata objectType=${attr(eo, 'objectType')} does not match the expected value: ${want}. ExtrinsicObject Id=${attr(eo, 'id')}`);
            break;
          }
        }
        continue;
      }
      if (!['MustOnlyInclude', 'Include', 'Exclude'].includes(mode)) continue;
      let matched = 0;
      for (const de of childElementsOf(part, 'DocumentEntry')) {
        let inResponse: Elem | undefined;
        for (const instr of childElementsOf(de)) {
          const n = localNameOf(instr);
          if (n === 'UseId') {
            const id = this.resolveUseId?.(instr);
            if (!id) {
              this.err('UseId ExtrinsicObject Id value cannot be resolved');
              continue;
            }
            inResponse = this.m.extrinsicObjects.find((eo) => attr(eo, 'id') === id);
            if (inResponse) matched++;
            if (mode !== 'Exclude' && !inResponse) this.err(`The submitted id [${id}] was not found in the registry response.`);
            if (mode === 'Exclude' && inResponse) this.err(`This id [${id}] is not supposed to included in the registry response but it was found.`);
          } else if (n === 'DocumentEntryType') {
            const want = (instr.textContent ?? '').trim();
            if (inResponse && attr(inResponse, 'objectType') !== want) {
              this.err(`Expected objectType [${want}] does not match the DocumentEntry objectType [${attr(inResponse, 'objectType')}] in the response.`);
            }
          }
        }
      }
      if (mode === 'MustOnlyInclude' && matched !== this.m.extrinsicObjects.length) {
        this.err(`Matched ExtrinsicObject (EO) Ids size [${matched}] does not match with the Registry EO size [${this.m.extrinsicObjects.length}] in the response.`);
      }
    }
  }
}

const STABLE = 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1';
const ON_DEMAND = 'urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248';

/** Evaluates Assertions/Assert XPath booleans over the section log; returns failed assertion ids. */
export function checkAssertions(asserts: readonly { id: string; xpath: string }[], log: Doc): string[] {
  const problems: string[] = [];
  for (const a of asserts) {
    try {
      if (!xpathBoolean(a.xpath, log)) problems.push(`assertion ${a.id} is false: ${a.xpath.replace(/\s+/g, ' ').trim()}`);
    } catch (e) {
      problems.push(`assertion ${a.id} cannot be evaluated: ${(e as Error).message}`);
    }
  }
  return problems;
}
