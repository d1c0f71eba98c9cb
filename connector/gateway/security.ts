/**
 * The caller's SAML assertion, taken from the incoming wsse:Security header and forwarded to the
 * communities in a fresh wsse:Security header, so each responding side applies its own trust model
 * (NORWAY.md: the hub forwards the assertion NHN or helsenorge issued).
 *
 * Nothing here verifies the assertion: that is the trust layer's job (issue #5). Reading the
 * requester's homeCommunityId from an unverified assertion is safe only because the hub uses it to
 * leave a community OUT of a fan-out: a forged value can hide data from its sender, never reveal any.
 *
 * Fidelity: the assertion is written back with its original prefixes and namespace declarations, so
 * its exclusive-c14n form (and with it the signature digest) is unchanged as long as the parser kept
 * every text node. The XML reader drops whitespace-only text between elements, so an indented
 * signed assertion cannot be forwarded byte-exactly from the tree; see the report of issue #4.
 */
import { NS } from '../../registry/xml/namespaces';
import { escapeAttribute, escapeText } from '../../registry/xml/serialize';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree';
import type { ForwardedCredentials } from './types';
import { urnOid } from './oid';

/** SAML attribute names that carry the requester's homeCommunityId (XUA name and the Norwegian v1 name). */
const HOME_COMMUNITY_ATTRIBUTES = ['urn:ihe:iti:xca:2010:homeCommunityId', 'urn:no:ehelse:saml:1.0:subject:homeCommunityId'];

/** The wsse:Security header block of an incoming message's Header, if any. */
export function securityHeader(header: XmlElement | undefined): XmlElement | undefined {
  return header ? childElement(header, NS.wsse, 'Security') : undefined;
}

/** The credentials to pass on: the one SAML 2.0 assertion in wsse:Security, and the community it names. */
export function credentialsFrom(header: XmlElement | undefined): ForwardedCredentials | undefined {
  const security = securityHeader(header);
  if (!security) return undefined;
  const assertions = childElements(security, NS.saml2, 'Assertion');
  // Zero or several assertions: nothing unambiguous to forward.
  if (assertions.length !== 1) return undefined;
  const assertion = assertions[0]!;
  const requester = requesterCommunity(assertion);
  return {
    assertionXml: serializePreservingPrefixes(assertion),
    ...(requester !== undefined ? { requesterCommunityId: requester } : {}),
  };
}

function requesterCommunity(assertion: XmlElement): string | undefined {
  for (const attr of descendants(assertion, NS.saml2, 'Attribute')) {
    if (!HOME_COMMUNITY_ATTRIBUTES.includes(attr.attrs['Name'] ?? '')) continue;
    const value = childElements(attr, NS.saml2, 'AttributeValue')[0];
    const text = value ? textContent(value).trim() : '';
    if (text !== '') return urnOid(text);
  }
  return undefined;
}

/** A wsse:Security header block carrying the forwarded assertion and a fresh wsu:Timestamp (5 minutes). */
export function forwardedSecurityHeader(credentials: ForwardedCredentials | undefined, now: Date = new Date()): string | undefined {
  if (credentials?.assertionXml === undefined) return undefined;
  const created = now.toISOString();
  const expires = new Date(now.getTime() + 5 * 60_000).toISOString();
  return (
    `<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}" xmlns:soap="${NS.soap12}" soap:mustUnderstand="1">` +
    `<wsu:Timestamp wsu:Id="TS-${now.getTime()}"><wsu:Created>${created}</wsu:Created><wsu:Expires>${expires}</wsu:Expires></wsu:Timestamp>` +
    credentials.assertionXml +
    `</wsse:Security>`
  );
}

/**
 * Self-contained XML for an element, written with the prefixes it arrived with: on the root every
 * namespace in scope there is declared (QName-valued content such as xsi:type="xs:string" needs
 * its prefix bound), below it only declarations that change the scope.
 */
export function serializePreservingPrefixes(root: XmlElement): string {
  const out: string[] = [];
  write(root, {}, root.nsScope ?? {}, out, true);
  return out.join('');
}

function write(
  e: XmlElement,
  parentScope: Readonly<Record<string, string>>,
  scope: Readonly<Record<string, string>>,
  out: string[],
  isRoot: boolean,
): void {
  const name = e.prefix !== undefined ? `${e.prefix}:${e.local}` : e.local;
  let open = `<${name}`;
  for (const [prefix, uri] of Object.entries(scope)) {
    if (prefix === 'xml') continue;
    if (!isRoot && parentScope[prefix] === uri) continue;
    open += prefix === '' ? ` xmlns="${escapeAttribute(uri)}"` : ` xmlns:${prefix}="${escapeAttribute(uri)}"`;
  }
  // An unprefixed element in no namespace under a default namespace needs it undeclared.
  if (e.prefix === undefined && e.ns === '' && scope[''] !== undefined && scope[''] !== '') open += ' xmlns=""';
  for (const [key, value] of Object.entries(e.attrs)) {
    open += ` ${attributeName(key, scope)}="${escapeAttribute(value)}"`;
  }
  if (e.children.length === 0) {
    out.push(`${open}/>`);
    return;
  }
  out.push(`${open}>`);
  for (const c of e.children) {
    if (typeof c === 'string') out.push(escapeText(c));
    else write(c, scope, c.nsScope ?? scope, out, false);
  }
  out.push(`</${name}>`);
}

function attributeName(key: string, scope: Readonly<Record<string, string>>): string {
  if (key.charCodeAt(0) !== 0x7b) return key;
  const close = key.indexOf('}');
  const uri = key.slice(1, close);
  const local = key.slice(close + 1);
  if (uri === NS.xml) return `xml:${local}`;
  const prefix = Object.entries(scope).find(([p, u]) => u === uri && p !== '')?.[0];
  // The parser resolved this attribute through a prefix in scope, so one is always found.
  return prefix !== undefined ? `${prefix}:${local}` : local;
}
