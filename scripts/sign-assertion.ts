/**
 * Builds and signs SAML 2.0 assertions the way NHN's issuers do (enveloped XML-DSig, exclusive
 * c14n, RSA-SHA256, signature right after saml:Issuer), for tests and for the NIST XUA variants.
 *
 * As a library: buildAssertion → signAssertion → soapEnvelope; nistVariant(name) gives the
 * options of each NIST XUA variant. As a command:
 *
 *   npx tsx scripts/sign-assertion.ts [--variant expired] [--envelope] [--key k.pem --cert c.pem]
 *       [--issuer I] [--audience A] [--patient CX] [--subject FNR] [--set name=value ...]
 *
 * prints the assertion (or a SOAP envelope around it) on stdout. The defaults sign with the
 * TEST-ONLY issuer in fixtures/certs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignedXml } from 'xml-crypto';
import { escapeAttribute, escapeText } from '../registry/xml/serialize.js';
import { FIXTURE_CERTS } from '../fixtures/index.js';

export { FIXTURE_CERTS };

const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const HL7 = 'urn:hl7-org:v3';

export interface SamlAttribute {
  readonly name: string;
  /** Values as text (escaped by the builder). */
  readonly values: readonly string[];
  /** Values given as XML elements instead (written as they are, IHE XUA style). */
  readonly xmlValues?: readonly string[];
  readonly nameFormat?: string;
}

export interface AssertionOptions {
  id?: string;
  issuer: string;
  /** NameID: the user's fødselsnummer. */
  subject: string;
  audiences: readonly string[];
  notBefore?: Date;
  notOnOrAfter: Date;
  issueInstant?: Date;
  authnInstant?: Date;
  /** One AuthnContextClassRef per AuthnContext; an empty list writes an AuthnStatement without context. */
  authnContexts?: readonly string[];
  /** Write no AuthnStatement at all. */
  omitAuthnStatement?: boolean;
  /** Write the AuthnStatement without its AuthnInstant. */
  omitAuthnInstant?: boolean;
  attributes: readonly SamlAttribute[];
}

/** HL7 coded value as NHN sends it: an escaped element in the AttributeValue text. */
export function hl7Code(element: string, code: string, codeSystem: string, displayName?: string): string {
  const display = displayName === undefined ? '' : ` displayName="${escapeAttribute(displayName)}"`;
  return `<${element} xmlns="${HL7}" xsi:type="CE" code="${escapeAttribute(code)}" codeSystem="${escapeAttribute(codeSystem)}"${display}/>`;
}

/** HL7 II as NHN sends it. */
export function hl7Id(extension: string, root: string): string {
  return `<id xmlns="${HL7}" xsi:type="II" extension="${escapeAttribute(extension)}" root="${escapeAttribute(root)}"/>`;
}

export interface ClinicianClaims {
  subject?: string;
  name?: string;
  hpr?: string;
  role?: string;
  purposeOfUse?: string;
  purposeOfUseSystem?: string;
  patient?: string;
  organizationId?: string;
  organizationName?: string;
  childOrganizationId?: string;
  securityLevel?: string;
  acp?: readonly string[];
}

/** The attributes a HelseID-issued clinician token carries (v1.x and v2.x names, as NHN sends both). */
export function clinicianAttributes(c: ClinicianClaims = {}): SamlAttribute[] {
  const name = c.name ?? 'KVART GREVLING';
  const hpr = c.hpr ?? '565505933';
  const role = hl7Code('Role', c.role ?? 'LE', 'urn:oid:2.16.578.1.12.4.1.1.9060', 'Lege');
  const purposeSystem = c.purposeOfUseSystem ?? 'urn:oid:2.16.840.1.113883.1.11.20448';
  const purpose = hl7Code('PurposeOfUse', c.purposeOfUse ?? 'TREAT', purposeSystem);
  const patient = c.patient ?? '13116900216^^^&2.16.578.1.12.4.1.4.1&ISO';
  const attrs: SamlAttribute[] = [
    { name: 'urn:oasis:names:tc:xspa:1.0:subject:subject-id', values: [name] },
    { name: 'urn:oasis:names:tc:xacml:1.0:subject:subject-id', values: [name] },
    { name: 'urn:oasis:names:tc:xspa:2.0:subject:npi', values: [hpr] },
    { name: 'urn:oasis:names:tc:xspa:1.0:subject:npi', values: [hpr] },
    { name: 'urn:oasis:names:tc:xspa:1.0:subject:role', values: [role] },
    { name: 'urn:oasis:names:tc:xacml:2.0:subject:role', values: [role] },
    { name: 'urn:oasis:names:tc:xspa:1.0:subject:purposeOfUse', values: [purpose] },
    { name: 'urn:oasis:names:tc:xacml:2.0:action:purpose', values: [purpose] },
    { name: 'urn:oasis:names:tc:xacml:2.0:resource:resource-id', values: [patient] },
    { name: 'urn:oasis:names:tc:xacml:1.0:resource:resource-id', values: [patient] },
    { name: 'urn:no:ehelse:saml:1.0:subject:SecurityLevel', values: [c.securityLevel ?? '4'] },
    { name: 'urn:oasis:names:tc:xspa:1.0:subject:organization', values: [c.organizationName ?? 'VOSS HERAD'] },
    {
      name: 'urn:oasis:names:tc:xspa:1.0:subject:organization-id',
      values: [hl7Id(c.organizationId ?? '960510542', 'urn:oid:2.16.578.1.12.4.1.4.101')],
    },
    {
      name: 'urn:oasis:names:tc:xspa:1.0:subject:child-organization',
      values: [hl7Id(c.childOrganizationId ?? '874593842', 'urn:oid:2.16.578.1.12.4.1.4.101')],
    },
    { name: 'urn:ihe:iti:xca:2010:homeCommunityId', values: ['urn:oid:2.16.578.1.12.4.1.7.1.1'] },
    {
      name: 'urn:nhn:trust-framework:1.0:ext:care-relationship:healthcare-service',
      values: [hl7Code('HealthcareService', 'KP01', 'urn:oid:2.16.578.1.12.4.1.1.8663', 'Legetjeneste ved sykehjem mv.')],
    },
    {
      name: 'urn:nhn:trust-framework:1.0:ext:care-relationship:decision-ref',
      values: ['<decision-ref><id value="07b4b65f-a538-4c88-b845-c8fd18702f83" /><user-selected value="True" /></decision-ref>'],
    },
  ];
  if (c.acp && c.acp.length > 0) attrs.push({ name: 'urn:ihe:iti:xua:2012:acp', values: c.acp });
  return attrs;
}

/** Default options: a clinician token from the test issuer, valid for an hour from `now`. */
export function defaultAssertionOptions(now: Date = new Date(), claims: ClinicianClaims = {}): AssertionOptions {
  return {
    issuer: 'https://idp.test.koblingspunkt.example',
    subject: claims.subject ?? '13116900216',
    audiences: ['urn:koblingspunkt:test'],
    notBefore: new Date(now.getTime() - 60_000),
    notOnOrAfter: new Date(now.getTime() + 3_600_000),
    issueInstant: now,
    authnInstant: new Date(now.getTime() - 120_000),
    authnContexts: ['urn:oasis:names:tc:SAML:2.0:ac:classes:X509'],
    attributes: clinicianAttributes(claims),
  };
}

/** The unsigned assertion XML, pretty-printed like NHN's (layout whitespace must survive signing). */
export function buildAssertion(o: AssertionOptions): string {
  const id = o.id ?? `_${randomUUID()}`;
  const t = (d: Date): string => d.toISOString();
  const lines: string[] = [];
  lines.push(
    `<saml:Assertion xmlns:saml="${SAML}" ID="${escapeAttribute(id)}" IssueInstant="${t(o.issueInstant ?? new Date())}" Version="2.0">`,
  );
  lines.push(`    <saml:Issuer>${escapeText(o.issuer)}</saml:Issuer>`);
  lines.push('    <saml:Subject>');
  lines.push(`        <saml:NameID>${escapeText(o.subject)}</saml:NameID>`);
  lines.push('        <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"/>');
  lines.push('    </saml:Subject>');
  const nb = o.notBefore ? ` NotBefore="${t(o.notBefore)}"` : '';
  lines.push(`    <saml:Conditions${nb} NotOnOrAfter="${t(o.notOnOrAfter)}">`);
  lines.push('        <saml:AudienceRestriction>');
  for (const a of o.audiences) lines.push(`            <saml:Audience>${escapeText(a)}</saml:Audience>`);
  lines.push('        </saml:AudienceRestriction>');
  lines.push('    </saml:Conditions>');
  if (o.attributes.length > 0) {
    lines.push('    <saml:AttributeStatement>');
    for (const attr of o.attributes) {
      const format = attr.nameFormat ? ` NameFormat="${escapeAttribute(attr.nameFormat)}"` : '';
      lines.push(`        <saml:Attribute Name="${escapeAttribute(attr.name)}"${format}>`);
      for (const v of attr.values) lines.push(`            <saml:AttributeValue>${escapeText(v)}</saml:AttributeValue>`);
      for (const x of attr.xmlValues ?? []) lines.push(`            <saml:AttributeValue>${x}</saml:AttributeValue>`);
      lines.push('        </saml:Attribute>');
    }
    lines.push('    </saml:AttributeStatement>');
  }
  if (!o.omitAuthnStatement) {
    const instant = o.omitAuthnInstant ? '' : ` AuthnInstant="${t(o.authnInstant ?? new Date())}"`;
    lines.push(`    <saml:AuthnStatement${instant}>`);
    for (const ref of o.authnContexts ?? []) {
      lines.push('        <saml:AuthnContext>');
      lines.push(`            <saml:AuthnContextClassRef>${escapeText(ref)}</saml:AuthnContextClassRef>`);
      lines.push('        </saml:AuthnContext>');
    }
    lines.push('    </saml:AuthnStatement>');
  }
  lines.push('</saml:Assertion>');
  return lines.join('\n');
}

export interface SigningKey {
  /** PEM private key. */
  readonly key: string;
  /** PEM certificate, written into KeyInfo unless `keyInfo` is false. */
  readonly cert: string;
}

export interface SignOptions {
  /** 'sha256' (default) or 'sha1' (only for testing that SHA-1 is refused). */
  algorithm?: 'sha256' | 'sha1';
  /** Write KeyInfo/X509Data (default true). */
  keyInfo?: boolean;
}

/** Reads a key pair from fixtures/certs (`issuer` or `attacker`). */
export function testKey(name: 'issuer' | 'attacker'): SigningKey {
  return {
    key: readFileSync(join(FIXTURE_CERTS, `${name}.key`), 'utf8'),
    cert: readFileSync(join(FIXTURE_CERTS, `${name}.pem`), 'utf8'),
  };
}

/** Signs an assertion: enveloped signature after saml:Issuer, exclusive c14n, RSA-SHA256. */
export function signAssertion(assertionXml: string, signer: SigningKey, options: SignOptions = {}): string {
  const sha1 = options.algorithm === 'sha1';
  const sig = new SignedXml({
    privateKey: signer.key,
    publicCert: signer.cert,
    signatureAlgorithm: sha1 ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    ...(options.keyInfo === false ? { getKeyInfoContent: () => null } : {}),
  });
  sig.addReference({
    xpath: "/*[local-name(.)='Assertion']",
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: sha1 ? 'http://www.w3.org/2000/09/xmldsig#sha1' : 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(assertionXml, {
    location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' },
  });
  return sig.getSignedXml();
}

export interface EnvelopeOptions {
  /** wsu:Timestamp Created/Expires; omitted when undefined. */
  timestamp?: { created: Date; expires: Date };
  action?: string;
  /** Body content XML (default: a FindDocuments query for the test patient). */
  body?: string;
  /** Extra XML placed inside wsse:Security after the assertion (attack tests). */
  securityExtra?: string;
}

/** A SOAP 1.2 envelope with WS-Addressing and the assertion in wsse:Security, laid out like NHN's. */
export function soapEnvelope(assertionXml: string, o: EnvelopeOptions = {}): string {
  const stamp = o.timestamp
    ? `\n            <wsu:Timestamp>\n                <wsu:Created>${o.timestamp.created.toISOString()}</wsu:Created>\n                <wsu:Expires>${o.timestamp.expires.toISOString()}</wsu:Expires>\n            </wsu:Timestamp>`
    : '';
  const body =
    o.body ??
    `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
            <query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>
            <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">
                <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>
                <rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
            </rim:AdhocQuery>
        </query:AdhocQueryRequest>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"
    xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">
    <s:Header>
        <a:Action s:mustUnderstand="1">${escapeText(o.action ?? 'urn:ihe:iti:2007:RegistryStoredQuery')}</a:Action>
        <a:MessageID>urn:uuid:${randomUUID()}</a:MessageID>
        <a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>
        <wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
            ${assertionXml.replace(/^<\?xml[^>]*\?>\s*/, '')}${o.securityExtra ?? ''}${stamp}
        </wsse:Security>
    </s:Header>
    <s:Body>
        ${body}
    </s:Body>
</s:Envelope>`;
}

export const NIST_XUA_VARIANTS = [
  'valid',
  'expired',
  'notyetvalid',
  'unsigned',
  'unknownaudience',
  'invalidauthnstatement',
  'secondauthncontext',
  'secondpurposeofuse',
  'secondrole',
  'withauthzconsent',
] as const;
export type NistXuaVariant = (typeof NIST_XUA_VARIANTS)[number];

/**
 * The assertion options of a NIST XUA variant, derived from `base`. `unsigned` is the one variant
 * decided at signing time: `isSigned(variant)` says whether to sign.
 */
export function nistVariant(variant: NistXuaVariant, base: AssertionOptions): AssertionOptions {
  const now = base.issueInstant ?? new Date();
  const hour = 3_600_000;
  switch (variant) {
    case 'valid':
    case 'unsigned':
      return base;
    case 'expired':
      return { ...base, notBefore: new Date(now.getTime() - 3 * hour), notOnOrAfter: new Date(now.getTime() - 2 * hour) };
    case 'notyetvalid':
      return { ...base, notBefore: new Date(now.getTime() + 2 * hour), notOnOrAfter: new Date(now.getTime() + 3 * hour) };
    case 'unknownaudience':
      return { ...base, audiences: ['urn:unknown:audience'] };
    case 'invalidauthnstatement':
      return { ...base, omitAuthnInstant: true, authnContexts: [] };
    case 'secondauthncontext':
      return { ...base, authnContexts: [...(base.authnContexts ?? []), 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password'] };
    case 'secondpurposeofuse':
      return {
        ...base,
        attributes: [
          ...base.attributes,
          { name: 'urn:oasis:names:tc:xspa:1.0:subject:purposeofuse', values: [hl7Code('PurposeOfUse', 'COC', 'urn:oid:2.16.840.1.113883.1.11.20448')] },
        ],
      };
    case 'secondrole':
      return {
        ...base,
        attributes: [
          ...base.attributes,
          { name: 'urn:oasis:names:tc:xacml:2.0:subject:role', values: [hl7Code('Role', 'SP', 'urn:oid:2.16.578.1.12.4.1.1.9060')] },
        ],
      };
    case 'withauthzconsent':
      return {
        ...base,
        attributes: [
          ...base.attributes,
          { name: 'urn:ihe:iti:bppc:2007:docid', values: ['urn:oid:2.16.578.1.12.4.1.7.2.2.1'] },
          { name: 'urn:ihe:iti:xua:2012:acp', values: ['urn:oid:2.16.578.1.12.4.1.7.2.1.8'] },
        ],
      };
  }
}

export function isSigned(variant: NistXuaVariant): boolean {
  return variant !== 'unsigned';
}

/** Builds, and unless the variant is `unsigned` signs, one variant's assertion. */
export function variantAssertion(variant: NistXuaVariant, base: AssertionOptions, signer: SigningKey): string {
  const xml = buildAssertion(nistVariant(variant, base));
  return isSigned(variant) ? signAssertion(xml, signer) : xml;
}

function main(argv: readonly string[]): void {
  const args = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const flag = a.slice(2);
    const value = flag === 'envelope' || flag === 'no-keyinfo' ? 'true' : argv[++i];
    if (value === undefined) throw new Error(`${a} needs a value`);
    args.set(flag, [...(args.get(flag) ?? []), value]);
  }
  const one = (k: string): string | undefined => args.get(k)?.[0];
  const variant = (one('variant') ?? 'valid') as NistXuaVariant;
  if (!NIST_XUA_VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}; one of ${NIST_XUA_VARIANTS.join(', ')}`);
  const base = defaultAssertionOptions(new Date(), {
    ...(one('subject') ? { subject: one('subject') } : {}),
    ...(one('patient') ? { patient: one('patient') } : {}),
    ...(one('role') ? { role: one('role') } : {}),
    ...(one('purpose') ? { purposeOfUse: one('purpose') } : {}),
  });
  const extra = (args.get('set') ?? []).map((kv): SamlAttribute => {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`--set expects name=value, got ${kv}`);
    return { name: kv.slice(0, eq), values: [kv.slice(eq + 1)] };
  });
  const options: AssertionOptions = {
    ...base,
    ...(one('issuer') ? { issuer: one('issuer')! } : {}),
    ...(args.get('audience') ? { audiences: args.get('audience')! } : {}),
    attributes: [...base.attributes, ...extra],
  };
  const signer = one('key') && one('cert')
    ? { key: readFileSync(one('key')!, 'utf8'), cert: readFileSync(one('cert')!, 'utf8') }
    : testKey('issuer');
  const built = buildAssertion(nistVariant(variant, options));
  const assertion = isSigned(variant) ? signAssertion(built, signer, { keyInfo: !args.has('no-keyinfo') }) : built;
  const now = new Date();
  process.stdout.write(
    (args.has('envelope') ? soapEnvelope(assertion, { timestamp: { created: now, expires: new Date(now.getTime() + 300_000) } }) : assertion) + '\n',
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`sign-assertion: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
