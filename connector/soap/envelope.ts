/**
 * The SOAP 1.2 processing model for one incoming envelope: version check, header blocks targeted
 * at this node, mustUnderstand, and the WS-Addressing 1.0 message addressing properties.
 *
 * Everything is matched on namespace URI + local name, so a foreign `Action` element (or a
 * WS-Addressing 2004/08 one) is never taken for wsa:Action.
 */
import { NS } from '../../registry/xml/namespaces.js';
import { childElements, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { WSA_ANONYMOUS } from './actions.js';
import { invalidAddressingHeader, SoapFault, WSA_FAULT, type QName } from './fault.js';

export interface RelatesTo {
  readonly value: string;
  /** wsa:RelationshipType; defaults to http://www.w3.org/2005/08/addressing/reply. */
  readonly relationshipType: string;
}

export interface AddressingProperties {
  /** wsa:Action, absent only when the peer sent none (the endpoint may then use the Content-Type action). */
  readonly action?: string;
  readonly messageId?: string;
  readonly to?: string;
  /** wsa:ReplyTo/wsa:Address (always anonymous once accepted). */
  readonly replyTo?: string;
  readonly faultTo?: string;
  readonly relatesTo: readonly RelatesTo[];
}

export interface SoapEnvelope {
  readonly envelope: XmlElement;
  readonly header?: XmlElement;
  /** First element child of env:Body. */
  readonly body: XmlElement;
  readonly addressing: AddressingProperties;
}

const ROLE_NEXT = 'http://www.w3.org/2003/05/soap-envelope/role/next';
const ROLE_ULTIMATE_RECEIVER = 'http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver';
const REPLY_RELATIONSHIP = 'http://www.w3.org/2005/08/addressing/reply';
const MUST_UNDERSTAND = `{${NS.soap12}}mustUnderstand`;
const ROLE = `{${NS.soap12}}role`;

/** A set of header names, keyed `{ns}local`. */
export class QNameSet {
  private readonly keys = new Set<string>();
  constructor(names: Iterable<QName> = []) {
    for (const n of names) this.add(n);
  }
  add(name: QName): void {
    this.keys.add(`{${name.ns}}${name.local}`);
  }
  has(name: QName): boolean {
    return this.keys.has(`{${name.ns}}${name.local}`);
  }
}

/**
 * Checks the envelope and reads its addressing headers. Throws SoapFault for every violation.
 * `understood` lists the non-WS-Addressing header blocks this endpoint processes (every wsa
 * header is always understood).
 */
export function readEnvelope(root: XmlElement, understood: QNameSet): SoapEnvelope {
  checkEnvelopeElement(root);
  const children = childElements(root);
  let header: XmlElement | undefined;
  let bodyElement: XmlElement | undefined;
  for (const c of children) {
    if (c.ns === NS.soap12 && c.local === 'Header' && header === undefined && bodyElement === undefined) header = c;
    else if (c.ns === NS.soap12 && c.local === 'Body' && bodyElement === undefined) bodyElement = c;
    else throw sender(`unexpected element {${c.ns}}${c.local} in the SOAP Envelope (only an optional Header, then a Body)`);
  }
  if (!bodyElement) throw sender('the SOAP Envelope has no Body');
  const body = childElements(bodyElement)[0];
  if (!body) throw sender('the SOAP Body is empty');

  const blocks = header ? targetedHeaderBlocks(header) : [];
  checkMustUnderstand(blocks, understood);
  const addressing = readAddressing(blocks);
  return header ? { envelope: root, header, body, addressing } : { envelope: root, body, addressing };
}

/** SOAP 1.2 Part 1 §2.8 / §5.4.7: an Envelope in another namespace is a VersionMismatch; anything else is not SOAP. */
export function checkEnvelopeElement(root: XmlElement): void {
  if (root.ns === NS.soap12 && root.local === 'Envelope') return;
  if (root.local === 'Envelope' && root.ns === NS.soap11) {
    throw new SoapFault({
      code: 'VersionMismatch',
      reason: 'SOAP 1.1 envelopes are not supported; send SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope)',
      soap11: true,
    });
  }
  if (root.local === 'Envelope') {
    throw new SoapFault({
      code: 'VersionMismatch',
      reason: `unsupported SOAP envelope namespace '${root.ns}'; send SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope)`,
    });
  }
  throw sender(`the message is not a SOAP envelope (root element {${root.ns}}${root.local})`);
}

/**
 * Best-effort wsa:MessageID of an envelope, read before any check so that even a fault about the
 * envelope's headers can carry RelatesTo. Undefined when absent or ambiguous.
 */
export function peekMessageId(root: XmlElement): string | undefined {
  if (root.ns !== NS.soap12 || root.local !== 'Envelope') return undefined;
  const header = childElements(root, NS.soap12, 'Header')[0];
  if (!header) return undefined;
  const ids = childElements(header, NS.wsa, 'MessageID');
  if (ids.length !== 1) return undefined;
  const id = textContent(ids[0]!).trim();
  return id === '' ? undefined : id;
}

/** SOAP 1.2 Part 1 §2.2: blocks with no role, role next or ultimateReceiver are ours; role none and other roles are not. */
function targetedHeaderBlocks(header: XmlElement): XmlElement[] {
  return childElements(header).filter((h) => {
    const role = h.attrs[ROLE]?.trim();
    return role === undefined || role === '' || role === ROLE_NEXT || role === ROLE_ULTIMATE_RECEIVER;
  });
}

function isTrue(value: string | undefined): boolean {
  const v = value?.trim();
  return v === '1' || v === 'true';
}

/** SOAP 1.2 Part 1 §5.2.3 / §5.4.8: every mandatory block must be understood before anything is processed. */
function checkMustUnderstand(blocks: readonly XmlElement[], understood: QNameSet): void {
  const notUnderstood: QName[] = [];
  for (const b of blocks) {
    if (!isTrue(b.attrs[MUST_UNDERSTAND])) continue;
    if (b.ns === NS.wsa || understood.has(b)) continue;
    notUnderstood.push({ ns: b.ns, local: b.local });
  }
  if (notUnderstood.length > 0) {
    throw new SoapFault({
      code: 'MustUnderstand',
      reason: `header block(s) not understood: ${notUnderstood.map((q) => `{${q.ns}}${q.local}`).join(', ')}`,
      notUnderstood,
    });
  }
}

/** The wsa headers read one by one: the first of each name, and the names that came more than once. */
interface WsaHeaders {
  Action?: XmlElement;
  MessageID?: XmlElement;
  To?: XmlElement;
  ReplyTo?: XmlElement;
  FaultTo?: XmlElement;
  repeated?: Set<string>;
}

const SINGLE_WSA = new Set(['Action', 'MessageID', 'To', 'ReplyTo', 'FaultTo']);

/** The one wsa header of this name, if any; more than one is wsa:InvalidCardinality. */
function singleWsa(headers: WsaHeaders, local: 'Action' | 'MessageID' | 'To' | 'ReplyTo' | 'FaultTo'): XmlElement | undefined {
  if (headers.repeated?.has(local)) throw invalidAddressingHeader(WSA_FAULT.invalidCardinality, local, `more than one wsa:${local} header`);
  return headers[local];
}

/** The trimmed text of a header, undefined when absent or empty. */
function trimmedText(element: XmlElement | undefined): string | undefined {
  return element ? textContent(element).trim() || undefined : undefined;
}

/**
 * WS-Addressing 1.0 SOAP Binding §2-3: message addressing properties from the wsa header blocks,
 * collected in one pass and checked in the order Action, MessageID, To, ReplyTo, FaultTo (the
 * first violation in that order is the fault, whatever the order of the headers).
 */
function readAddressing(blocks: readonly XmlElement[]): AddressingProperties {
  const headers: WsaHeaders = {};
  const relatesTo: RelatesTo[] = [];
  for (const b of blocks) {
    if (b.ns !== NS.wsa) continue;
    if (b.local === 'RelatesTo') {
      relatesTo.push({ value: textContent(b).trim(), relationshipType: b.attrs.RelationshipType?.trim() || REPLY_RELATIONSHIP });
    } else if (SINGLE_WSA.has(b.local)) {
      const local = b.local as 'Action' | 'MessageID' | 'To' | 'ReplyTo' | 'FaultTo';
      if (headers[local] === undefined) headers[local] = b;
      else (headers.repeated ??= new Set()).add(local);
    }
  }
  // An empty wsa:Action names no action: treated as absent, so the endpoint faults as for a missing one.
  const action = trimmedText(singleWsa(headers, 'Action'));
  const messageId = trimmedText(singleWsa(headers, 'MessageID'));
  const to = trimmedText(singleWsa(headers, 'To'));
  const replyTo = responseEndpoint(singleWsa(headers, 'ReplyTo'), 'ReplyTo');
  const faultTo = responseEndpoint(singleWsa(headers, 'FaultTo'), 'FaultTo');
  // Members only for the properties present (built one by one: this runs for every request).
  const properties: { -readonly [K in keyof AddressingProperties]: AddressingProperties[K] } = {} as AddressingProperties;
  if (action !== undefined) properties.action = action;
  if (messageId !== undefined) properties.messageId = messageId;
  if (to !== undefined) properties.to = to;
  if (replyTo !== undefined) properties.replyTo = replyTo;
  if (faultTo !== undefined) properties.faultTo = faultTo;
  properties.relatesTo = relatesTo;
  return properties;
}

/**
 * The reply or fault endpoint. This node answers on the HTTP response only, so any address other
 * than anonymous is refused (WS-Addressing Metadata §5.2.1: wsa:OnlyAnonymousAddressSupported).
 */
function responseEndpoint(epr: XmlElement | undefined, local: 'ReplyTo' | 'FaultTo'): string | undefined {
  if (!epr) return undefined;
  const addresses = childElements(epr, NS.wsa, 'Address');
  if (addresses.length === 0) {
    throw invalidAddressingHeader(WSA_FAULT.missingAddressInEPR, local, `wsa:${local} has no wsa:Address`);
  }
  if (addresses.length > 1) {
    throw invalidAddressingHeader(WSA_FAULT.invalidEPR, local, `wsa:${local} has more than one wsa:Address`);
  }
  const address = textContent(addresses[0]!).trim();
  if (address !== WSA_ANONYMOUS) {
    throw invalidAddressingHeader(
      WSA_FAULT.onlyAnonymousAddressSupported,
      local,
      `wsa:${local} must be ${WSA_ANONYMOUS}: this endpoint answers on the HTTP response only`,
    );
  }
  return address;
}

function sender(reason: string): SoapFault {
  return new SoapFault({ code: 'Sender', reason });
}
