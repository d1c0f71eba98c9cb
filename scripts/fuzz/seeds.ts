/**
 * Seed messages for the fuzzer: the request bodies of the NIST XDS Toolkit testkit (ebRIM
 * submissions, stored queries, retrieves, provide-and-register) and the Norwegian sample
 * traffic (whole SOAP envelopes as NHN's infrastructure sends them, and bare bodies).
 *
 * Files are read in sorted order so that a seed index means the same file on every machine.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../../fixtures/index.js';


export type SeedKind = 'submit' | 'query' | 'retrieve' | 'provide';

export interface Seed {
  /** Where it came from (relative path), for reports. */
  readonly source: string;
  readonly kind: SeedKind;
  /** A whole SOAP envelope (NHN samples) or only the body element (NIST metadata). */
  readonly envelope: boolean;
  readonly xml: string;
}

const ROOTS: ReadonlyArray<readonly [RegExp, SeedKind]> = [
  [/^<(?:[\w.-]+:)?ProvideAndRegisterDocumentSetRequest[\s>/]/, 'provide'],
  [/^<(?:[\w.-]+:)?SubmitObjectsRequest[\s>/]/, 'submit'],
  [/^<(?:[\w.-]+:)?AdhocQueryRequest[\s>/]/, 'query'],
  [/^<(?:[\w.-]+:)?RetrieveDocumentSetRequest[\s>/]/, 'retrieve'],
];

const BODY_KINDS: ReadonlyArray<readonly [RegExp, SeedKind]> = [
  [/<(?:[\w.-]+:)?ProvideAndRegisterDocumentSetRequest[\s>/]/, 'provide'],
  [/<(?:[\w.-]+:)?(?:SubmitObjectsRequest|RegisterDocumentSetRequest)[\s>/]/, 'submit'],
  [/<(?:[\w.-]+:)?AdhocQueryRequest[\s>/]/, 'query'],
  [/<(?:[\w.-]+:)?RetrieveDocumentSetRequest[\s>/]/, 'retrieve'],
];

/** The document with its prolog (XML declaration, comments, blanks) removed. */
function stripProlog(text: string): string {
  let s = text.replace(/^\uFEFF/, '');
  for (;;) {
    const t = s.trimStart();
    if (t.startsWith('<?')) s = t.slice(t.indexOf('?>') + 2);
    else if (t.startsWith('<!--')) s = t.slice(t.indexOf('-->') + 3);
    else return t;
  }
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (name.endsWith('.xml') && name !== 'testplan.xml' && st.size <= 200 * 1024) out.push(p);
  }
}

export interface SeedOptions {
  /** Directory holding nist-testkit/ and nhn-samples/. */
  readonly conformanceDir?: string;
}

export function loadSeeds(options: SeedOptions = {}): Seed[] {
  const base = options.conformanceDir ?? fixture('conformance');
  const seeds: Seed[] = [];
  const nist = join(base, 'nist-testkit');
  const files: string[] = [];
  for (const sub of ['tests', 'testdata-registry', 'testdata-repository', 'utilities']) walk(join(nist, sub), files);
  for (const file of files) {
    const body = stripProlog(readFileSync(file, 'utf8'));
    const kind = ROOTS.find(([re]) => re.test(body))?.[1];
    if (kind) seeds.push({ source: file.slice(base.length + 1), kind, envelope: false, xml: body });
  }
  const nhn = join(base, 'nhn-samples');
  for (const name of readdirSync(nhn).sort()) {
    if (!name.endsWith('.xml')) continue;
    const text = stripProlog(readFileSync(join(nhn, name), 'utf8'));
    const kind = BODY_KINDS.find(([re]) => re.test(text))?.[1];
    if (!kind) continue;
    const envelope = /^<(?:[\w.-]+:)?Envelope[\s>]/.test(text);
    seeds.push({ source: `nhn-samples/${name}`, kind, envelope, xml: text });
  }
  if (seeds.length === 0) throw new Error(`no seed messages found under ${base}`);
  return seeds;
}
