/**
 * The caller's SAML assertion, taken from the incoming wsse:Security header and forwarded to the
 * communities in a fresh wsse:Security header, so each responding side applies its own trust model
 * (docs/norway.md, Hub topology: the hub forwards the assertion NHN or helsenorge issued).
 *
 * Fidelity: the assertion is forwarded byte-for-byte as it arrived, cut out of the raw envelope
 * text (connector/trust/locate.ts, the same cut the XUA verifier checks), with only the namespace
 * declarations in scope copied onto its start tag. Re-serialising it from our tree would drop the
 * layout whitespace between elements and break every signature made over indented XML (NHN's are).
 *
 * Nothing here verifies the assertion: that is the trust layer's job (connector/transactions/context.ts).
 * Reading the requester's homeCommunityId from an unverified assertion is safe only because the hub
 * uses it to leave a community OUT of a fan-out: a forged value can hide data from its sender,
 * never reveal any.
 */
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, descendants, textContent, type XmlElement } from '../../registry/xml/tree.js';
import type { ForwardedCredentials } from './types.js';
import { urnOid } from './oid.js';
import { locateAssertions, type LocatedAssertion } from '../trust/locate.js';

/** SAML attribute names that carry the requester's homeCommunityId (XUA name and the Norwegian v1 name). */
const HOME_COMMUNITY_ATTRIBUTES = ['urn:ihe:iti:xca:2010:homeCommunityId', 'urn:no:ehelse:saml:1.0:subject:homeCommunityId'];

/** The wsse:Security header block of an incoming message's Header, if any. */
export function securityHeader(header: XmlElement | undefined): XmlElement | undefined {
  return header ? childElement(header, NS.wsse, 'Security') : undefined;
}

/**
 * The credentials to pass on: the one SAML 2.0 assertion in wsse:Security, as its exact bytes in
 * `rawEnvelope` (the text the header was parsed from), and the community it names.
 */
export function credentialsFrom(header: XmlElement | undefined, rawEnvelope: string | Uint8Array): ForwardedCredentials | undefined {
  const security = securityHeader(header);
  if (!security) return undefined;
  const assertions = childElements(security, NS.saml2, 'Assertion');
  // Zero or several assertions: nothing unambiguous to forward.
  if (assertions.length !== 1) return undefined;
  const assertion = assertions[0]!;
  let located: LocatedAssertion[];
  try {
    located = locateAssertions(rawEnvelope);
  } catch {
    return undefined;
  }
  const exact = located.length === 1 && located[0]!.id === assertion.attrs['ID'] ? located[0]! : undefined;
  if (!exact) return undefined;
  const requester = requesterCommunity(assertion);
  return {
    assertionXml: exact.xml,
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
