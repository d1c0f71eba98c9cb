/**
 * Turns seed messages into hostile requests. Each case is built from one seed, one target
 * endpoint and one mutation family, all drawn from the seeded Rng, so a case number and a seed
 * reproduce the exact bytes.
 */
import { NS } from '../../registry/xml/namespaces.js';
import type { Rng } from './random.js';
import type { Seed, SeedKind } from './seeds.js';

export type Endpoint = 'registry' | 'repository' | 'responding' | 'initiating';
export const ENDPOINTS: readonly Endpoint[] = ['registry', 'repository', 'responding', 'initiating'];

export const MUTATIONS = [
  'none',
  'truncate',
  'deepNesting',
  'hugeSlot',
  'hugeAttribute',
  'wrongNamespace',
  'doctype',
  'mtom',
  'byteFlip',
  'invalidUtf8',
  'soap11',
  'wsAddressing',
  'signatureWrapping',
  'garbage',
  'charset',
  'namespaceBomb',
  'commentCdata',
  'xmlDeclaration',
  'combined',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

const WEIGHTS: ReadonlyArray<readonly [Mutation, number]> = [
  ['none', 4],
  ['truncate', 10],
  ['deepNesting', 5],
  ['hugeSlot', 4],
  ['hugeAttribute', 3],
  ['wrongNamespace', 7],
  ['doctype', 8],
  ['mtom', 10],
  ['byteFlip', 10],
  ['invalidUtf8', 6],
  ['soap11', 4],
  ['wsAddressing', 9],
  ['signatureWrapping', 8],
  ['garbage', 4],
  ['charset', 3],
  ['namespaceBomb', 6],
  ['commentCdata', 6],
  ['xmlDeclaration', 4],
  ['combined', 5],
];

export interface FuzzCase {
  readonly index: number;
  readonly mutation: Mutation;
  /** Which variant of the mutation (e.g. doctype/billionLaughs), for the report. */
  readonly variant: string;
  readonly seed: string;
  readonly endpoint: Endpoint;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** Signed SAML assertions made once per run (signing is the slow part), see assertions.ts. */
export interface AssertionKit {
  /** Signed by the pinned test issuer. */
  readonly signed: string;
  /** Same claims, signed by the attacker's key (KeyInfo carries the attacker's certificate). */
  readonly attackerSigned: string;
}

export interface CaseContext {
  readonly seeds: readonly Seed[];
  readonly nhnSeeds: readonly Seed[];
  readonly assertions: AssertionKit;
  /** Largest request the node accepts (oversize cases go just beyond it). */
  readonly maxRequestBytes: number;
  /** The node's XML depth limit (depth cases go around it). */
  readonly maxXmlDepth: number;
}

const ACTION = {
  register: 'urn:ihe:iti:2007:RegisterDocumentSet-b',
  query: 'urn:ihe:iti:2007:RegistryStoredQuery',
  provide: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b',
  retrieve: 'urn:ihe:iti:2007:RetrieveDocumentSet',
  xcQuery: 'urn:ihe:iti:2007:CrossGatewayQuery',
  xcRetrieve: 'urn:ihe:iti:2007:CrossGatewayRetrieve',
} as const;

/** Which seed kinds each endpoint serves. */
const SERVES: Readonly<Record<Endpoint, readonly SeedKind[]>> = {
  registry: ['submit', 'query'],
  repository: ['provide', 'retrieve'],
  responding: ['query', 'retrieve'],
  initiating: ['query', 'retrieve'],
};

function actionFor(kind: SeedKind, endpoint: Endpoint): string {
  switch (kind) {
    case 'submit':
      return ACTION.register;
    case 'provide':
      return ACTION.provide;
    case 'query':
      return endpoint === 'responding' ? ACTION.xcQuery : ACTION.query;
    case 'retrieve':
      return endpoint === 'responding' ? ACTION.xcRetrieve : ACTION.retrieve;
  }
}

const NIST_PATIENT = `P${'20241223'}0001^^^&amp;1.3.6.1.4.1.21367.2005.13.20.1000&amp;ISO`;

/** NIST placeholders ($patientid$, $uid$ …) filled with something plausible, so that validation goes deeper. */
function fillPlaceholders(xml: string, rng: Rng): string {
  return xml.replace(/\$[A-Za-z_][\w]*\$/g, (m) => {
    const name = m.toLowerCase();
    if (name.includes('patient') || name.includes('pid')) return NIST_PATIENT;
    if (name.includes('uuid')) return `urn:uuid:${rng.uuid()}`;
    return `1.2.42.${rng.int(1, 1_000_000)}.${rng.int(1, 1_000_000)}`;
  });
}

interface EnvelopeParts {
  soapNs: string;
  wsaNs: string;
  /** wsa:Action values (0, 1 or 2 of them). */
  actions: string[];
  messageIds: string[];
  to?: string;
  /** Extra header blocks (raw XML). */
  extraHeaders: string;
  body: string;
}

function envelopeXml(p: EnvelopeParts): string {
  const headers =
    p.actions.map((a) => `<wsa:Action soap:mustUnderstand="1">${a}</wsa:Action>`).join('') +
    p.messageIds.map((m) => `<wsa:MessageID>${m}</wsa:MessageID>`).join('') +
    `<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>` +
    (p.to !== undefined ? `<wsa:To soap:mustUnderstand="1">${p.to}</wsa:To>` : '') +
    p.extraHeaders;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soap:Envelope xmlns:soap="${p.soapNs}" xmlns:wsa="${p.wsaNs}">` +
    `<soap:Header>${headers}</soap:Header><soap:Body>${p.body}</soap:Body></soap:Envelope>`
  );
}

const soapContentType = (action: string): string => `application/soap+xml; charset=UTF-8; action="${action}"`;

interface Draft {
  endpoint: Endpoint;
  action: string;
  /** The complete envelope text (before wire-level mutations). */
  xml: string;
  contentType: string | undefined;
  /** Final bytes when a mutation already produced them (MTOM, garbage, byte-level). */
  bytes?: Buffer;
  variant: string;
}

export function makeCase(index: number, rng: Rng, ctx: CaseContext): FuzzCase {
  const mutation = rng.weighted(WEIGHTS);
  const endpoint = rng.pick(ENDPOINTS);
  // A quarter of the cases start from the Norwegian samples (few files, real-world shapes); one in
  // ten sends a seed to an endpoint that does not serve its kind.
  const all = rng.chance(0.25) ? ctx.nhnSeeds : ctx.seeds;
  const fitting = all.filter((s) => SERVES[endpoint].includes(s.kind));
  const seed = rng.pick(rng.chance(0.1) || fitting.length === 0 ? all : fitting);
  const action = actionFor(seed.kind, endpoint);
  const url = `http://127.0.0.1/fuzz/${endpoint}`;
  const base: EnvelopeParts = {
    soapNs: NS.soap12,
    wsaNs: NS.wsa,
    actions: [action],
    messageIds: [`urn:uuid:${rng.uuid()}`],
    to: url,
    extraHeaders: '',
    body: seed.envelope ? '' : ourRepository(fillPlaceholders(seed.xml, rng), rng),
  };
  const draft: Draft = {
    endpoint,
    action,
    // An NHN envelope is kept as sent, with its action changed to the one the target serves.
    xml: seed.envelope ? seed.xml.replace(/(<(?:[\w.-]+:)?Action\b[^>]*>)[^<]*/, `$1${action}`) : envelopeXml(base),
    contentType: soapContentType(action),
    variant: '',
  };
  applyMutation(mutation, draft, base, seed, rng, ctx);
  const body = draft.bytes ?? Buffer.from(draft.xml, 'utf8');
  return { index, mutation, variant: draft.variant, seed: seed.source, endpoint, contentType: draft.contentType, body };
}

/** The node's repositoryUniqueId (config default) and homeCommunityId the fuzz node runs with. */
export const FUZZ_REPOSITORY_ID = '2.25.309237645197082458325426232421537170187';
export const FUZZ_HOME = 'urn:oid:2.16.578.1.12.4.5.100.99';

/** Most retrieves name this node's repository (and community), so that they get past routing. */
function ourRepository(xml: string, rng: Rng): string {
  if (!rng.chance(0.7)) return xml;
  return xml
    .replace(/(<(?:[\w.-]+:)?RepositoryUniqueId>)[^<]*/g, `$1${FUZZ_REPOSITORY_ID}`)
    .replace(/(<(?:[\w.-]+:)?HomeCommunityId>)[^<]*/g, `$1${FUZZ_HOME}`);
}

/** The body content of an envelope seed (for mutations that rebuild the envelope). */
function bodyOf(seed: Seed, base: EnvelopeParts): string {
  if (!seed.envelope) return base.body;
  const m = /<(?:[\w.-]+:)?Body\b[^>]*>([\s\S]*)<\/(?:[\w.-]+:)?Body>/.exec(seed.xml);
  return m?.[1] ?? '';
}

function applyMutation(mutation: Mutation, d: Draft, base: EnvelopeParts, seed: Seed, rng: Rng, ctx: CaseContext): void {
  switch (mutation) {
    case 'none':
      d.variant = 'as-is';
      return;
    case 'truncate':
      return truncate(d, rng);
    case 'deepNesting':
      return deepNesting(d, rng, ctx);
    case 'hugeSlot':
      return hugeSlot(d, rng, ctx);
    case 'hugeAttribute':
      return hugeAttribute(d, rng, ctx);
    case 'wrongNamespace':
      return wrongNamespace(d, rng);
    case 'doctype':
      return doctype(d, rng);
    case 'mtom':
      return mtom(d, base, seed, rng);
    case 'byteFlip':
      return byteFlip(d, rng);
    case 'invalidUtf8':
      return invalidUtf8(d, rng);
    case 'soap11':
      return soap11(d, base, seed, rng);
    case 'wsAddressing':
      return wsAddressing(d, base, seed, rng);
    case 'signatureWrapping':
      return signatureWrapping(d, base, seed, rng, ctx);
    case 'garbage':
      return garbage(d, rng);
    case 'charset':
      return charset(d, rng);
    case 'namespaceBomb':
      return namespaceBomb(d, rng, ctx);
    case 'commentCdata':
      return commentCdata(d, rng);
    case 'xmlDeclaration':
      return xmlDeclaration(d, rng);
    case 'combined': {
      const first = rng.pick(['wrongNamespace', 'doctype', 'wsAddressing', 'hugeAttribute', 'signatureWrapping', 'mtom', 'namespaceBomb', 'commentCdata'] as const);
      applyMutation(first, d, base, seed, rng, ctx);
      const v1 = d.variant;
      const second = rng.pick(['truncate', 'byteFlip', 'invalidUtf8'] as const);
      applyMutation(second, d, base, seed, rng, ctx);
      d.variant = `${first}/${v1}+${second}/${d.variant}`;
      return;
    }
  }
}

function current(d: Draft): Buffer {
  return d.bytes ?? Buffer.from(d.xml, 'utf8');
}

function truncate(d: Draft, rng: Rng): void {
  const b = current(d);
  const at = rng.chance(0.2) ? rng.int(0, Math.min(64, b.length)) : rng.int(0, b.length);
  d.bytes = b.subarray(0, at);
  d.variant = at === 0 ? 'empty' : 'at-random-point';
}

/** Inserts `count` nested elements right after the body's first start tag (or in a slot). */
function deepNesting(d: Draft, rng: Rng, ctx: CaseContext): void {
  const depth = rng.weighted([
    [ctx.maxXmlDepth - 5, 2],
    [ctx.maxXmlDepth + rng.int(1, 50), 3],
    [rng.int(1_000, 20_000), 3],
    [rng.int(50_000, 200_000), 1],
  ]);
  const name = rng.pick(['a', 'rim:Slot', 'x:n', 'soap:Body']);
  const decl = name.startsWith('x:') ? ' xmlns:x="urn:fuzz"' : '';
  const open = `<${name}${decl}>`.repeat(1) + `<${name}>`.repeat(depth - 1);
  const close = `</${name}>`.repeat(depth);
  const unbalanced = rng.chance(0.2);
  const inner = unbalanced ? open : open + close;
  d.xml = insertAfterBodyStart(d.xml, inner);
  d.variant = `${unbalanced ? 'unclosed' : 'closed'}-${depth <= ctx.maxXmlDepth ? 'under' : 'over'}-limit`;
}

function insertAfterBodyStart(xml: string, insert: string): string {
  const m = /<(?:[\w.-]+:)?Body\b[^>]*>/.exec(xml);
  if (!m) return insert + xml;
  const at = m.index + m[0].length;
  // Inside the body's first element when there is one, so that the actor parses it.
  const first = /<[A-Za-z_][^>]*>/.exec(xml.slice(at));
  const pos = first ? at + first.index + first[0].length : at;
  return xml.slice(0, pos) + insert + xml.slice(pos);
}

function sized(rng: Rng, ctx: CaseContext): number {
  return rng.weighted([
    [rng.int(64 * 1024, 512 * 1024), 5],
    [rng.int(1024 * 1024, 4 * 1024 * 1024), 3],
    [ctx.maxRequestBytes + rng.int(1, 64 * 1024), 1],
  ]);
}

function hugeSlot(d: Draft, rng: Rng, ctx: CaseContext): void {
  const many = rng.chance(0.5);
  let slot: string;
  if (many) {
    const n = rng.int(5_000, 60_000);
    slot = `<rim:Slot xmlns:rim="${NS.rim}" name="$XDSDocumentEntryPatientId"><rim:ValueList>${`<rim:Value>'X${rng.int(0, 9)}^^^&amp;1.2.3&amp;ISO'</rim:Value>`.repeat(n)}</rim:ValueList></rim:Slot>`;
    d.variant = 'many-values';
  } else {
    const size = sized(rng, ctx);
    slot = `<rim:Slot xmlns:rim="${NS.rim}" name="${rng.pick(['$XDSDocumentEntryPatientId', 'sourcePatientInfo', 'x'.repeat(1000)])}"><rim:ValueList><rim:Value>${'A'.repeat(size)}</rim:Value></rim:ValueList></rim:Slot>`;
    d.variant = size > ctx.maxRequestBytes ? 'one-value-over-limit' : 'one-huge-value';
  }
  d.xml = insertAfterBodyStart(d.xml, slot);
}

function hugeAttribute(d: Draft, rng: Rng, ctx: CaseContext): void {
  const size = sized(rng, ctx);
  const kind = rng.pick(['value', 'many-attributes', 'name'] as const);
  let attr: string;
  if (kind === 'value') attr = ` fuzz="${'\u00f8'.repeat(size >> 1)}"`;
  else if (kind === 'many-attributes') attr = Array.from({ length: Math.min(50_000, size >> 4) }, (_, i) => ` a${i}="${i}"`).join('');
  else attr = ` ${'n'.repeat(Math.min(size, 2 * 1024 * 1024))}="1"`;
  // On the body's first element.
  const m = /<(?:[\w.-]+:)?Body\b[^>]*>\s*<[A-Za-z_][\w.:-]*/.exec(d.xml);
  if (m) d.xml = d.xml.slice(0, m.index + m[0].length) + attr + d.xml.slice(m.index + m[0].length);
  else d.xml = d.xml.replace(/<[A-Za-z_][\w.:-]*/, (t) => t + attr);
  d.variant = kind;
}

function wrongNamespace(d: Draft, rng: Rng): void {
  const swaps: ReadonlyArray<readonly [string, string, string]> = [
    ['soap-envelope', NS.soap12, 'http://www.w3.org/2003/05/soap-envelopX'],
    ['rim-2.1', NS.rim, NS.rim21],
    ['query-2.1', NS.query, NS.query21],
    ['lcm', NS.lcm, 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:2.0'],
    ['xdsb', NS.xdsb, 'urn:ihe:iti:xds-b:2010'],
    ['wsa-2004', NS.wsa, 'http://schemas.xmlsoap.org/ws/2004/08/addressing'],
    ['rs-as-rim', NS.rs, NS.rim],
    ['empty', NS.rim, ''],
  ];
  const [name, from, to] = rng.pick(swaps);
  if (d.xml.includes(from)) {
    d.xml = d.xml.split(from).join(to);
    d.variant = name;
    return;
  }
  // The namespace is not there: undeclare a prefix instead.
  d.xml = d.xml.replace(/ xmlns:([\w.-]+)="[^"]*"/, ' xmlns:fuzzunused="urn:x"');
  d.variant = 'undeclared-prefix';
}

function doctype(d: Draft, rng: Rng): void {
  const variant = rng.pick([
    'billion-laughs',
    'external-entity',
    'parameter-entity',
    'external-dtd',
    'internal-subset',
    'undeclared-entity',
    'bad-char-refs',
    'doctype-after-root',
  ] as const);
  const root = d.xml.replace(/^<\?xml[^>]*\?>/, '');
  const decl = '<?xml version="1.0" encoding="UTF-8"?>';
  let dtd = '';
  let xml = root;
  switch (variant) {
    case 'billion-laughs': {
      const lol = ['<!ENTITY lol0 "lol">'];
      for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
      dtd = `<!DOCTYPE Envelope [${lol.join('')}]>`;
      xml = xml.replace(/(<\/(?:[\w.-]+:)?Body>)/, '&lol9;$1');
      break;
    }
    case 'external-entity':
      dtd = `<!DOCTYPE Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`;
      xml = xml.replace(/(<(?:[\w.-]+:)?MessageID>)[^<]*/, '$1&xxe;');
      break;
    case 'parameter-entity':
      dtd = `<!DOCTYPE Envelope [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">%remote;<!ENTITY % x "<!ENTITY y 'z'>">%x;]>`;
      break;
    case 'external-dtd':
      dtd = `<!DOCTYPE Envelope SYSTEM "http://127.0.0.1:9/soap.dtd">`;
      break;
    case 'internal-subset':
      dtd = `<!DOCTYPE Envelope [<!ELEMENT Envelope ANY><!ATTLIST Envelope fuzz CDATA "default">]>`;
      break;
    case 'undeclared-entity':
      xml = xml.replace(/(<\/(?:[\w.-]+:)?Body>)/, `&${rng.pick(['nbsp', 'xxe', 'lol9', 'oslash'])};$1`);
      break;
    case 'bad-char-refs':
      xml = xml.replace(/(<\/(?:[\w.-]+:)?Body>)/, `${rng.pick(['&#0;', '&#xD800;', '&#x110000;', '&#;', '&#x;', '&#99999999999;', '&#x1F;'])}$1`);
      break;
    case 'doctype-after-root':
      xml = xml + '<!DOCTYPE x [<!ENTITY a "b">]>';
      break;
  }
  d.xml = decl + dtd + xml;
  d.variant = variant;
}

const CRLF = '\r\n';

/** Wraps the envelope in an MTOM package, then breaks it in one of several ways. */
function mtom(d: Draft, base: EnvelopeParts, seed: Seed, rng: Rng): void {
  const boundary = `MIMEBoundary_${rng.uuid()}`;
  const rootId = `root.message@cxf.apache.org`;
  const docId = `doc${rng.int(1, 99)}@fuzz.example`;
  let envelope = d.xml;
  if (seed.kind === 'provide' && !seed.envelope) {
    const doc = `<xdsb:Document xmlns:xdsb="${NS.xdsb}" id="Document01"><xop:Include xmlns:xop="${NS.xop}" href="cid:${encodeURIComponent(docId)}"/></xdsb:Document>`;
    envelope = envelope.replace(/(<\/(?:[\w.-]+:)?ProvideAndRegisterDocumentSetRequest>)/, `${doc}$1`);
  }
  const variant = rng.pick([
    'well-formed',
    'wrong-boundary',
    'missing-root',
    'bogus-content-id',
    'no-closing-boundary',
    'no-parts',
    'root-not-xop',
    'duplicate-content-id',
    'no-boundary-param',
    'huge-part-headers',
    'boundary-in-content',
    'garbage-between-parts',
    'no-header-separator',
  ] as const);
  let start = `<${rootId}>`;
  let declaredBoundary = boundary;
  let rootType = `application/xop+xml; charset=UTF-8; type="application/soap+xml"`;
  let partHeaders = '';
  let attachmentId = docId;
  let closing = `--${boundary}--${CRLF}`;
  let between = '';
  let blankLine = CRLF;
  switch (variant) {
    case 'wrong-boundary':
      declaredBoundary = `${boundary}X`;
      break;
    case 'missing-root':
      start = `<nothing-${rng.int(0, 999)}@fuzz>`;
      break;
    case 'bogus-content-id':
      envelope = insertAfterBodyStart(envelope, `<xop:Include xmlns:xop="${NS.xop}" href="cid:${rng.pick(['missing@fuzz', '', '%ZZ', '../../etc/passwd', 'a'.repeat(5000)])}"/>`);
      break;
    case 'no-closing-boundary':
      closing = '';
      break;
    case 'root-not-xop':
      rootType = rng.pick(['text/plain', 'application/octet-stream', 'application/xop+xml; type="text/html"', '']);
      break;
    case 'duplicate-content-id':
      attachmentId = rootId;
      break;
    case 'huge-part-headers':
      partHeaders = `X-Fuzz: ${'h'.repeat(rng.int(10_000, 300_000))}${CRLF}`;
      break;
    case 'boundary-in-content':
      envelope = envelope.replace(/(<\/(?:[\w.-]+:)?Body>)/, `${CRLF}--${boundary}${CRLF}$1`);
      break;
    case 'garbage-between-parts':
      between = rng.bytes(rng.int(1, 2000)).toString('latin1');
      break;
    case 'no-header-separator':
      blankLine = '';
      break;
    default:
      break;
  }
  const docBytes = rng.bytes(rng.int(0, 4096));
  const parts: Buffer[] = [];
  if (variant !== 'no-parts') {
    parts.push(
      Buffer.from(
        `--${boundary}${CRLF}Content-Type: ${rootType}${CRLF}Content-Transfer-Encoding: binary${CRLF}Content-ID: <${rootId}>${CRLF}${partHeaders}${blankLine}`,
        'latin1',
      ),
    );
    parts.push(Buffer.from(envelope, 'utf8'));
    parts.push(Buffer.from(`${CRLF}${between}--${boundary}${CRLF}Content-Type: application/octet-stream${CRLF}Content-Transfer-Encoding: binary${CRLF}Content-ID: <${attachmentId}>${CRLF}${CRLF}`, 'latin1'));
    parts.push(docBytes);
    parts.push(Buffer.from(`${CRLF}${closing}`, 'latin1'));
  } else {
    parts.push(Buffer.from(`--${boundary}--${CRLF}`, 'latin1'));
  }
  d.bytes = Buffer.concat(parts);
  const action = d.contentType?.match(/action="([^"]*)"/)?.[1] ?? d.action;
  d.contentType =
    variant === 'no-boundary-param'
      ? `multipart/related; type="application/xop+xml"; start="${start}"; start-info="application/soap+xml"`
      : `multipart/related; type="application/xop+xml"; boundary="${declaredBoundary}"; start="${start}"; start-info="application/soap+xml"; action="${action}"`;
  d.variant = variant;
}

function byteFlip(d: Draft, rng: Rng): void {
  const b = Buffer.from(current(d));
  const flips = rng.int(1, 32);
  for (let i = 0; i < flips && b.length > 0; i++) {
    const at = rng.int(0, b.length - 1);
    b[at] = rng.chance(0.5) ? b[at]! ^ (1 << rng.int(0, 7)) : rng.pick([0x3c, 0x3e, 0x26, 0x22, 0x00, 0x2f, 0x3a, 0xff]);
  }
  d.bytes = b;
  d.variant = `${flips}-flips`;
}

function invalidUtf8(d: Draft, rng: Rng): void {
  const b = current(d);
  const bad = rng.pick([
    ['lone-continuation', [0x80]],
    ['truncated-sequence', [0xc3]],
    ['overlong-slash', [0xc0, 0xaf]],
    ['surrogate', [0xed, 0xa0, 0x80]],
    ['ff', [0xff, 0xfe]],
    ['above-max', [0xf4, 0x90, 0x80, 0x80]],
    ['nul', [0x00]],
  ] as const);
  const at = rng.int(0, b.length);
  d.bytes = Buffer.concat([b.subarray(0, at), Buffer.from(bad[1]), b.subarray(at)]);
  d.variant = bad[0];
}

function soap11(d: Draft, base: EnvelopeParts, seed: Seed, rng: Rng): void {
  const variant = rng.pick(['envelope-and-text-xml', 'envelope-only', 'content-type-only'] as const);
  const body = bodyOf(seed, base);
  if (variant !== 'content-type-only') d.xml = envelopeXml({ ...base, soapNs: NS.soap11, body });
  if (variant !== 'envelope-only') d.contentType = 'text/xml; charset=UTF-8';
  d.variant = variant;
}

function wsAddressing(d: Draft, base: EnvelopeParts, seed: Seed, rng: Rng): void {
  const body = bodyOf(seed, base);
  const variant = rng.pick([
    'missing-action',
    'missing-action-and-ct-action',
    'duplicate-action',
    'duplicate-message-id',
    'missing-message-id',
    'action-mismatch',
    'unknown-action',
    'empty-action',
    'wsa-2004',
    'unknown-must-understand',
    'non-anonymous-reply-to',
    'no-header',
    'action-in-body',
  ] as const);
  const p: EnvelopeParts = { ...base, body };
  switch (variant) {
    case 'missing-action':
      p.actions = [];
      break;
    case 'missing-action-and-ct-action':
      p.actions = [];
      d.contentType = 'application/soap+xml; charset=UTF-8';
      break;
    case 'duplicate-action':
      p.actions = [d.action, rng.chance(0.5) ? d.action : 'urn:ihe:iti:2007:RegisterDocumentSet-b'];
      break;
    case 'duplicate-message-id':
      p.messageIds = [p.messageIds[0]!, `urn:uuid:${rng.uuid()}`];
      break;
    case 'missing-message-id':
      p.messageIds = [];
      break;
    case 'action-mismatch':
      d.contentType = soapContentType('urn:ihe:iti:2007:CrossGatewayQuery');
      p.actions = ['urn:ihe:iti:2007:RegistryStoredQuery'];
      break;
    case 'unknown-action':
      p.actions = [rng.pick(['urn:fuzz:nothing', 'urn:ihe:iti:2007:RegistryStoredQueryX', 'x'.repeat(3000)])];
      d.contentType = soapContentType(p.actions[0]!);
      break;
    case 'empty-action':
      p.actions = [''];
      d.contentType = 'application/soap+xml; charset=UTF-8; action=""';
      break;
    case 'wsa-2004':
      p.wsaNs = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
      break;
    case 'unknown-must-understand':
      p.extraHeaders = `<f:Secret xmlns:f="urn:fuzz" soap:mustUnderstand="${rng.pick(['1', 'true', '0', 'yes'])}">x</f:Secret>`;
      break;
    case 'non-anonymous-reply-to':
      p.extraHeaders = `<wsa:FaultTo><wsa:Address>http://127.0.0.1:9/callback</wsa:Address></wsa:FaultTo>`;
      break;
    case 'no-header':
      d.xml = `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${NS.soap12}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
      d.variant = variant;
      return;
    case 'action-in-body':
      p.actions = [];
      p.body = `<wsa:Action xmlns:wsa="${NS.wsa}">${d.action}</wsa:Action>${body}`;
      break;
  }
  d.xml = envelopeXml(p);
  d.variant = variant;
}

/** The ds:Signature element of a signed assertion, whatever its prefix. */
const SIGNATURE = /<(?:ds:)?Signature\b[\s\S]*<\/(?:ds:)?Signature>/;

function signatureWrapping(d: Draft, base: EnvelopeParts, seed: Seed, rng: Rng, ctx: CaseContext): void {
  const signed = ctx.assertions.signed;
  const body = bodyOf(seed, base);
  const variant = rng.pick([
    'signed',
    'attacker-signed',
    'two-assertions',
    'evil-twin-first',
    'original-in-extensions',
    'tampered-nameid',
    'signature-removed',
    'signature-in-body',
    'two-security-headers',
    'assertion-in-body',
    'reference-to-other-id',
  ] as const);
  const evil = signed.replace(/<saml:NameID>[^<]*<\/saml:NameID>/, '<saml:NameID>01017000000</saml:NameID>');
  let security: string;
  let b = body;
  const wrap = (inner: string): string => `<wsse:Security xmlns:wsse="${NS.wsse}" soap:mustUnderstand="1">${inner}</wsse:Security>`;
  switch (variant) {
    case 'signed':
      security = wrap(signed);
      break;
    case 'attacker-signed':
      security = wrap(ctx.assertions.attackerSigned);
      break;
    case 'two-assertions':
      security = wrap(signed + signed);
      break;
    case 'evil-twin-first':
      security = wrap(evil.replace(SIGNATURE, '') + signed);
      break;
    case 'original-in-extensions':
      security = wrap(`<wsse:Extensions>${signed}</wsse:Extensions>${evil.replace(/<((?:ds:)?SignatureValue)>[^<]*/, '<$1>AAAA')}`);
      break;
    case 'tampered-nameid':
      security = wrap(evil);
      break;
    case 'signature-removed':
      security = wrap(signed.replace(SIGNATURE, ''));
      break;
    case 'signature-in-body': {
      const sig = SIGNATURE.exec(signed)?.[0] ?? '';
      security = wrap(evil.replace(SIGNATURE, ''));
      b = sig + body;
      break;
    }
    case 'two-security-headers':
      security = wrap(signed) + wrap(evil);
      break;
    case 'assertion-in-body':
      security = wrap('');
      b = signed + body;
      break;
    case 'reference-to-other-id':
      security = wrap(signed.replace(/URI="#[^"]*"/, 'URI="#someone-else"'));
      break;
  }
  d.xml = envelopeXml({ ...base, body: b, extraHeaders: security });
  d.variant = variant;
}

function garbage(d: Draft, rng: Rng): void {
  const variant = rng.pick(['random-bytes', 'empty', 'json', 'no-content-type', 'html', 'huge-text'] as const);
  switch (variant) {
    case 'random-bytes':
      d.bytes = rng.bytes(rng.int(1, 64 * 1024));
      break;
    case 'empty':
      d.bytes = Buffer.alloc(0);
      break;
    case 'json':
      d.bytes = Buffer.from(JSON.stringify({ action: d.action, body: 'x' }));
      d.contentType = 'application/json';
      break;
    case 'no-content-type':
      d.contentType = undefined;
      break;
    case 'html':
      d.bytes = Buffer.from('<html><body><script>alert(1)</script></body></html>');
      d.contentType = 'text/html';
      break;
    case 'huge-text':
      d.bytes = Buffer.from('<'.repeat(rng.int(100_000, 1_000_000)));
      break;
  }
  d.variant = variant;
}

function charset(d: Draft, rng: Rng): void {
  const variant = rng.pick(['utf-16-label-utf-8-bytes', 'unknown-charset', 'latin1-bytes', 'utf-16le-bytes'] as const);
  const action = d.action;
  switch (variant) {
    case 'utf-16-label-utf-8-bytes':
      d.contentType = `application/soap+xml; charset=UTF-16; action="${action}"`;
      break;
    case 'unknown-charset':
      d.contentType = `application/soap+xml; charset=x-fuzz-${rng.int(0, 99)}; action="${action}"`;
      break;
    case 'latin1-bytes':
      d.bytes = Buffer.from(d.xml.replace(/(<\/(?:[\w.-]+:)?Body>)/, 'blåbærsyltetøy$1'), 'latin1');
      break;
    case 'utf-16le-bytes':
      d.bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(d.xml, 'utf16le')]);
      break;
  }
  d.variant = variant;
}

/** Inserts text right after the Envelope's element name (in its start tag), or on the first start tag. */
function onEnvelope(xml: string, attrs: string): string {
  const m = /<(?:[\w.-]+:)?Envelope\b/.exec(xml) ?? /<[A-Za-z_][\w.:-]*/.exec(xml);
  if (!m) return xml;
  const at = m.index + m[0].length;
  return xml.slice(0, at) + attrs + xml.slice(at);
}

function declarations(n: number, prefix = 'nb'): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(` xmlns:${prefix}${i}="urn:fuzz:${i}"`);
  return parts.join('');
}

/**
 * Issue 14: many namespace declarations on one element, many elements that each declare one, and
 * both at once (N × M namespace bindings for a reader that copies its table per element). The
 * node's caps (64 per element, 100,000 per document) sit between the variants' sizes.
 */
function namespaceBomb(d: Draft, rng: Rng, ctx: CaseContext): void {
  const variant = rng.pick([
    'many-on-one',
    'declaring-children',
    'product',
    'same-prefix-children',
    'over-document-cap',
    'deep-redeclaring',
    'in-security-header',
    'many-attributes',
    'empty-prefix',
  ] as const);
  const child = (j: number, samePrefix: boolean): string => (samePrefix ? `<nc:x xmlns:nc="urn:fuzz:${j}"/>` : `<nc${j}:x xmlns:nc${j}="urn:fuzz:${j}"/>`);
  const children = (m: number, samePrefix: boolean): string => {
    const parts: string[] = [];
    for (let j = 0; j < m; j++) parts.push(child(j, samePrefix));
    return parts.join('');
  };
  // Stays under the node's request limit: a declaring child is at most ~40 bytes.
  const fit = (m: number): number => Math.max(0, Math.min(m, Math.floor((ctx.maxRequestBytes - d.xml.length) / 48)));
  switch (variant) {
    case 'many-on-one':
      d.xml = onEnvelope(d.xml, declarations(rng.pick([63, 64, 65, rng.int(1000, 20_000)])));
      break;
    case 'declaring-children':
      d.xml = insertAfterBodyStart(d.xml, children(fit(rng.int(1000, 40_000)), false));
      break;
    case 'product': {
      // The shape that ran the node out of heap: N = M = 20,000 (0.92 MB) before issue 14.
      const n = rng.pick([60, 20_000]);
      d.xml = insertAfterBodyStart(onEnvelope(d.xml, declarations(n)), children(fit(rng.pick([2000, 20_000])), false));
      break;
    }
    case 'same-prefix-children':
      d.xml = insertAfterBodyStart(onEnvelope(d.xml, declarations(60)), children(fit(rng.int(10_000, 99_000)), true));
      break;
    case 'over-document-cap':
      d.xml = insertAfterBodyStart(d.xml, children(fit(100_001), true));
      break;
    case 'deep-redeclaring': {
      // Every level declares 60 prefixes: 9,000 bindings in scope at the bottom, then siblings.
      const depth = Math.min(150, ctx.maxXmlDepth - 20);
      const open = Array.from({ length: depth }, () => `<nd:d xmlns:nd="urn:fuzz:d"${declarations(60)}>`).join('');
      d.xml = insertAfterBodyStart(d.xml, open + children(fit(rng.int(1000, 50_000)), rng.chance(0.5)) + '</nd:d>'.repeat(depth));
      break;
    }
    case 'in-security-header': {
      // The XUA scanner (connector/trust/locate.ts) reads the header with a namespace table of its own.
      const assertion = `<saml2:Assertion xmlns:saml2="${NS.saml2}" ID="_fuzz" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"/>`;
      const security = `<wsse:Security xmlns:wsse="${NS.wsse}">${children(fit(rng.int(1000, 20_000)), rng.chance(0.5))}${assertion.repeat(rng.pick([1, 9, 50]))}</wsse:Security>`;
      d.xml = onEnvelope(d.xml, declarations(60)).replace(/(<(?:[\w.-]+:)?Header\b[^>]*>)/, `$1${security}`);
      break;
    }
    case 'many-attributes': {
      const n = rng.pick([256, 257, 5000]);
      d.xml = onEnvelope(d.xml, Array.from({ length: n }, (_, i) => ` fa${i}="${i}"`).join(''));
      break;
    }
    case 'empty-prefix':
      // `xmlns:` is no declaration of the default namespace, just a malformed name.
      d.xml = onEnvelope(d.xml, rng.pick([' xmlns:="urn:fuzz"', ' xmlns:xmlns="urn:fuzz"', ' xmlns:xml="urn:fuzz"', ' xmlns:p="" ', ' xmlns:a:b="urn:fuzz"']));
      break;
  }
  d.variant = variant;
}

/** Comments and CDATA sections, well-formed (text must read the same as without them) and not. */
function commentCdata(d: Draft, rng: Rng): void {
  const variant = rng.pick([
    'double-dash-in-comment',
    'comment-ending-in-dash',
    'unterminated-comment',
    'doctype-in-comment',
    'cdata-end-in-text',
    'nested-cdata',
    'unterminated-cdata',
    'cdata-outside-root',
    'huge-comment',
    'many-comments',
    'many-cdata-sections',
    'cdata-around-value',
    'comment-inside-value',
  ] as const);
  const value = /(<(?:[\w.-]+:)?Value>)([^<]*)(<\/)/;
  switch (variant) {
    case 'double-dash-in-comment':
      d.xml = insertAfterBodyStart(d.xml, '<!-- a -- b -->');
      break;
    case 'comment-ending-in-dash':
      d.xml = insertAfterBodyStart(d.xml, '<!-- a --->');
      break;
    case 'unterminated-comment':
      d.xml = insertAfterBodyStart(d.xml, '<!-- never closed ');
      break;
    case 'doctype-in-comment':
      d.xml = insertAfterBodyStart(d.xml, '<!-- <!DOCTYPE x [<!ENTITY e "e">]> -->');
      break;
    case 'cdata-end-in-text':
      d.xml = value.test(d.xml) ? d.xml.replace(value, '$1$2]]>$3') : insertAfterBodyStart(d.xml, 'a]]>b');
      break;
    case 'nested-cdata':
      d.xml = insertAfterBodyStart(d.xml, '<![CDATA[ <![CDATA[inner]]> ]]>');
      break;
    case 'unterminated-cdata':
      d.xml = insertAfterBodyStart(d.xml, '<![CDATA[ never closed ');
      break;
    case 'cdata-outside-root':
      d.xml = rng.chance(0.5) ? d.xml.replace(/^(<\?xml[^>]*\?>)?/, '$1<![CDATA[x]]>') : `${d.xml}<![CDATA[x]]>`;
      break;
    case 'huge-comment':
      d.xml = insertAfterBodyStart(d.xml, `<!--${'c'.repeat(rng.int(1, 4) * 1024 * 1024)}-->`);
      break;
    case 'many-comments':
      d.xml = insertAfterBodyStart(d.xml, '<!---->'.repeat(rng.int(10_000, 200_000)));
      break;
    case 'many-cdata-sections':
      // One text of many sections: the reader must join them without quadratic copying.
      d.xml = value.test(d.xml) ? d.xml.replace(value, `$1$2${'<![CDATA[x]]>'.repeat(rng.int(10_000, 200_000))}$3`) : d.xml;
      break;
    case 'cdata-around-value':
      d.xml = d.xml.replace(new RegExp(value.source, 'g'), '$1<![CDATA[$2]]>$3');
      break;
    case 'comment-inside-value':
      d.xml = d.xml.replace(new RegExp(value.source, 'g'), (_m, open: string, text: string, close: string) => `${open}${text.slice(0, 1)}<!-- c -->${text.slice(1)}${close}`);
      break;
  }
  d.variant = variant;
}

/** The XML declaration and processing instructions: the forms XML 1.0 §2.8 and §2.6 refuse, and one it allows. */
function xmlDeclaration(d: Draft, rng: Rng): void {
  const variant = rng.pick([
    'version-1.1',
    'uppercase-XML',
    'mismatched-quotes',
    'encoding-utf-16',
    'encoding-bad-name',
    'standalone-YES',
    'order',
    'not-at-start',
    'pi-colon-target',
    'pi-no-space',
    'stylesheet-pi',
  ] as const);
  const body = d.xml.replace(/^<\?xml[^>]*\?>/, '');
  const decl: Record<typeof variant, string> = {
    'version-1.1': '<?xml version="1.1" encoding="UTF-8"?>',
    'uppercase-XML': '<?XML version="1.0"?>',
    'mismatched-quotes': `<?xml version="1.0' encoding="UTF-8"?>`,
    'encoding-utf-16': '<?xml version="1.0" encoding="UTF-16"?>',
    'encoding-bad-name': '<?xml version="1.0" encoding=" utf-8"?>',
    'standalone-YES': '<?xml version="1.0" standalone="YES"?>',
    order: '<?xml encoding="UTF-8" version="1.0"?>',
    'not-at-start': ' <?xml version="1.0"?>',
    'pi-colon-target': '<?xml version="1.0"?><?a:b data?>',
    'pi-no-space': '<?xml version="1.0"?><?pi??>',
    'stylesheet-pi': '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><?xml-stylesheet href="x.xsl"?>',
  };
  d.xml = decl[variant] + body;
  d.variant = variant;
}
