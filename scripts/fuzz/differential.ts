/**
 * Differential fuzzing of the XML reader against saxes:
 *
 *   npx tsx scripts/fuzz/differential.ts [--cases 20000] [--seed 1]
 *
 * Every generated document (scripts/fuzz/xml-documents.ts) goes, as UTF-8 bytes, to our reader
 * (registry/xml/parse.ts) and to saxes (scripts/fuzz/saxes-reader.ts). Where one accepts what the
 * other refuses, the difference must be one our reader makes by design; where both accept, the
 * trees must be the same. Anything else is a finding. test/xml/differential.test.ts runs a few
 * thousand cases in `npm test`; this command runs as many as asked and exits 1 on a finding.
 *
 * The differences by design:
 * - doctype: any DOCTYPE or ENTITY declaration, even as text in a comment (saxes reads past them);
 * - version: an XML declaration of a version other than 1.0 (saxes reads 1.x by the 1.1 rules);
 * - encoding: a declared encoding that contradicts the bytes (UTF-16 declared, or a UTF-8 BOM
 *   with another encoding declared); saxes gets text, not bytes, and cannot tell;
 * - namespace-trim: a namespace name with leading or trailing white space, which saxes trims
 *   (an empty one so becomes an error there) and Namespaces in XML does not;
 * - caps: a cap of XmlParseLimits (the generator stays below them; a mutation may not).
 *
 * And where saxes is wrong (checked with xmllint, which sides with us):
 * - saxes-pi: saxes accepts a processing instruction whose target is followed by '?' but not
 *   '?>' (`<?pi??>`); XML 1.0 §2.6 [16] wants white space or '?>' right after the target.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseXml, XmlParseError } from '../../registry/xml/parse.js';
import type { XmlElement, XmlNode } from '../../registry/xml/tree.js';
import { Rng } from './random.js';
import { parseWithSaxes } from './saxes-reader.js';
import { makeXmlCase } from './xml-documents.js';

export type ByDesign = 'doctype' | 'version' | 'encoding' | 'namespace-trim' | 'caps' | 'saxes-pi';

export interface DifferentialFinding {
  readonly index: number;
  readonly kind: 'only-ours-accepts' | 'only-saxes-accepts' | 'different-trees';
  readonly how: string;
  readonly text: string;
  readonly detail: string;
}

export interface DifferentialSummary {
  readonly seed: number;
  readonly cases: number;
  readonly bothAccept: number;
  readonly bothRefuse: number;
  readonly byDesign: Readonly<Record<ByDesign, number>>;
  readonly findings: readonly DifferentialFinding[];
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

type Outcome = { ok: true; root: XmlElement } | { ok: false; error: Error };

function ours(bytes: Buffer): Outcome {
  try {
    return { ok: true, root: parseXml(bytes) };
  } catch (e) {
    if (e instanceof XmlParseError) return { ok: false, error: e };
    throw e;
  }
}

function reference(bytes: Buffer): Outcome {
  try {
    return { ok: true, root: parseWithSaxes(bytes).root };
  } catch (e) {
    return { ok: false, error: e as Error };
  }
}

const CHARACTER_REFERENCE = /&#x([0-9a-fA-F]+);|&#([0-9]+);/g;

/** Whether a namespace declaration's value, as read, starts or ends with white space (saxes trims it). */
export function namespaceWhitespace(text: string): boolean {
  for (const m of text.matchAll(/xmlns(?::[^\s=>]*)?\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    const value = (m[1] ?? m[2] ?? '').replace(/[\t\n\r]/g, ' ').replace(CHARACTER_REFERENCE, (_r, hex: string | undefined, dec: string | undefined) => {
      const cp = hex !== undefined ? parseInt(hex, 16) : parseInt(dec!, 10);
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
    });
    if (value !== value.trim()) return true;
  }
  return false;
}

function classify(error: Error | undefined, text: string): ByDesign | undefined {
  if (error instanceof XmlParseError) {
    if (error.reason === 'doctype') return 'doctype';
    if (error.limit !== undefined) return 'caps';
    if (/XML version .* is not read/.test(error.message)) return 'version';
    if (/declares encoding|byte order mark/.test(error.message)) return 'encoding';
    if (/malformed processing instruction target/.test(error.message) && /<\?[^\s?]+\?(?!>)/.test(text)) return 'saxes-pi';
  }
  if (namespaceWhitespace(text)) return 'namespace-trim';
  return undefined;
}

/** Every binding of an nsScope, inherited ones included (it is a prototype chain). */
function bindingsOf(scope: Readonly<Record<string, string>> | undefined): string {
  const out: string[] = [];
  for (const prefix in scope) out.push(`${prefix}=${scope[prefix]}`);
  return out.sort().join(' ');
}

/** Where two trees first differ, or undefined. */
export function treeDifference(a: XmlNode, b: XmlNode, path = ''): string | undefined {
  if (typeof a === 'string' || typeof b === 'string') return a === b ? undefined : `${path}: text ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`;
  const here = `${path}/{${a.ns}}${a.local}`;
  if (a.ns !== b.ns || a.local !== b.local) return `${here}: element {${b.ns}}${b.local}`;
  if (a.prefix !== b.prefix) return `${here}: prefix ${a.prefix} ≠ ${b.prefix}`;
  const ak = Object.keys(a.attrs).sort();
  const bk = Object.keys(b.attrs).sort();
  if (ak.join('\u0000') !== bk.join('\u0000')) return `${here}: attributes ${ak.join(' ')} ≠ ${bk.join(' ')}`;
  for (const k of ak) if (a.attrs[k] !== b.attrs[k]) return `${here}@${k}: ${JSON.stringify(a.attrs[k])} ≠ ${JSON.stringify(b.attrs[k])}`;
  const as = bindingsOf(a.nsScope);
  const bs = bindingsOf(b.nsScope);
  if (as !== bs) return `${here}: nsScope ${as} ≠ ${bs}`;
  if (a.children.length !== b.children.length) return `${here}: ${a.children.length} ≠ ${b.children.length} children`;
  for (let i = 0; i < a.children.length; i++) {
    const d = treeDifference(a.children[i]!, b.children[i]!, `${here}[${i}]`);
    if (d) return d;
  }
  return undefined;
}

export function runDifferential(options: { readonly seed: number; readonly cases: number; readonly maxFindings?: number }): DifferentialSummary {
  const rng = new Rng(options.seed);
  const byDesign: Record<ByDesign, number> = { doctype: 0, version: 0, encoding: 0, 'namespace-trim': 0, caps: 0, 'saxes-pi': 0 };
  const findings: DifferentialFinding[] = [];
  let bothAccept = 0;
  let bothRefuse = 0;
  for (let index = 0; index < options.cases; index++) {
    const c = makeXmlCase(rng);
    const bytes = c.bom ? Buffer.concat([UTF8_BOM, Buffer.from(c.text, 'utf8')]) : Buffer.from(c.text, 'utf8');
    const a = ours(bytes);
    const b = reference(bytes);
    const finding = (kind: DifferentialFinding['kind'], detail: string): void => {
      if (findings.length < (options.maxFindings ?? 50)) findings.push({ index, kind, how: c.how, text: JSON.stringify((c.bom ? '\uFEFF' : '') + c.text), detail });
    };
    if (a.ok && b.ok) {
      bothAccept++;
      const d = treeDifference(a.root, b.root);
      if (d === undefined) continue;
      const why = classify(undefined, c.text);
      if (why) byDesign[why]++;
      else finding('different-trees', `ours vs saxes: ${d}`);
    } else if (!a.ok && !b.ok) {
      bothRefuse++;
    } else {
      const why = classify(a.ok ? undefined : a.error, c.text);
      if (why) byDesign[why]++;
      else if (a.ok) finding('only-ours-accepts', `saxes: ${(b as { error: Error }).error.message}`);
      else finding('only-saxes-accepts', `ours: ${a.error.message}`);
    }
  }
  return { seed: options.seed, cases: options.cases, bothAccept, bothRefuse, byDesign, findings };
}

export function formatDifferential(s: DifferentialSummary): string {
  const design = Object.entries(s.byDesign)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `differential: seed ${s.seed}, ${s.cases} documents: both accept ${s.bothAccept}, both refuse ${s.bothRefuse}; by design: ${design}; findings ${s.findings.length}\n` +
    s.findings.map((f) => `  #${f.index} ${f.kind} (${f.how}): ${f.text}\n    ${f.detail}`).join('\n') +
    (s.findings.length > 0 ? '\n' : '')
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { cases: { type: 'string', default: '20000' }, seed: { type: 'string', default: '1' } } });
  const started = Date.now();
  const summary = runDifferential({ seed: Number(values.seed), cases: Number(values.cases) });
  process.stdout.write(formatDifferential(summary) + `(${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  process.exit(summary.findings.length === 0 ? 0 : 1);
}
