/**
 * SOAP 1.2 faults: the error type transactions throw, the WS-Addressing and WS-Security fault
 * codes, and their serialisation.
 *
 * Fault codes and subcodes are QNames whose prefixes must be declared where they are used, so the
 * fault is written here with explicit declarations rather than through serializeXml (which only
 * declares namespaces that elements and attributes use, not those used inside text).
 */
import { NS } from '../../registry/xml/namespaces.js';
import { escapeAttribute, escapeText, serializeXml } from '../../registry/xml/serialize.js';
import { el, type XmlElement } from '../../registry/xml/tree.js';
import { SOAP_FAULT_ACTION, WSA_FAULT_ACTION } from './actions.js';

export type SoapFaultCode = 'VersionMismatch' | 'MustUnderstand' | 'DataEncodingUnknown' | 'Sender' | 'Receiver';

export interface QName {
  readonly ns: string;
  readonly local: string;
}

export interface SoapFaultInit {
  code: SoapFaultCode;
  /** Subcode, or a chain of nested subcodes (outermost first), e.g. wsa:InvalidAddressingHeader then wsa:InvalidCardinality. */
  subcode?: QName | readonly QName[];
  /** Human-readable reason (sent as env:Reason/env:Text xml:lang="en"). */
  reason: string;
  /** Children of env:Detail. */
  detail?: XmlElement | readonly XmlElement[];
  /** For MustUnderstand faults: the header blocks not understood (sent as env:NotUnderstood header blocks). */
  notUnderstood?: readonly QName[];
  /** HTTP status instead of the SOAP 1.2 HTTP binding's default for the code (e.g. 413 for an oversize body). */
  httpStatus?: number;
  /**
   * Answer with a SOAP 1.1 envelope: SOAP 1.2 Part 1 Appendix A wants a VersionMismatch for a
   * SOAP 1.1 message to be a SOAP 1.1 fault, which the SOAP 1.1 sender can read.
   */
  soap11?: boolean;
}

export class SoapFault extends Error {
  readonly code: SoapFaultCode;
  readonly subcodes: readonly QName[];
  readonly reason: string;
  readonly detail: readonly XmlElement[];
  readonly notUnderstood: readonly QName[];
  readonly soap11: boolean;
  private readonly explicitStatus: number | undefined;

  constructor(init: SoapFaultInit) {
    super(init.reason);
    this.name = 'SoapFault';
    this.code = init.code;
    this.subcodes = init.subcode === undefined ? [] : isQNameList(init.subcode) ? [...init.subcode] : [init.subcode];
    this.reason = init.reason;
    this.detail = init.detail === undefined ? [] : isElementList(init.detail) ? [...init.detail] : [init.detail];
    this.notUnderstood = init.notUnderstood ?? [];
    this.soap11 = init.soap11 ?? false;
    this.explicitStatus = init.httpStatus;
  }

  /** The first subcode, the one peers usually switch on. */
  get subcode(): QName | undefined {
    return this.subcodes[0];
  }

  /**
   * SOAP 1.2 Part 2 §7.5.2.2 (Table 20): env:Sender → 400; VersionMismatch, MustUnderstand,
   * DataEncodingUnknown and Receiver → 500.
   */
  get httpStatus(): number {
    if (this.explicitStatus !== undefined) return this.explicitStatus;
    return this.code === 'Sender' ? 400 : 500;
  }

  /** WS-Addressing SOAP Binding §6: WS-Addressing faults carry …/addressing/fault, other SOAP faults …/addressing/soap/fault. */
  get action(): string {
    return this.subcodes[0]?.ns === NS.wsa ? WSA_FAULT_ACTION : SOAP_FAULT_ACTION;
  }
}

function isQNameList(v: QName | readonly QName[]): v is readonly QName[] {
  return Array.isArray(v);
}

function isElementList(v: XmlElement | readonly XmlElement[]): v is readonly XmlElement[] {
  return Array.isArray(v);
}

const wsaName = (local: string): QName => ({ ns: NS.wsa, local });
const wsseName = (local: string): QName => ({ ns: NS.wsse, local });

/** WS-Addressing 1.0 SOAP Binding §6.4 fault subcodes (and WS-Addressing Metadata §5.2 for the anonymous ones). */
export const WSA_FAULT = {
  invalidAddressingHeader: wsaName('InvalidAddressingHeader'),
  invalidAddress: wsaName('InvalidAddress'),
  invalidEPR: wsaName('InvalidEPR'),
  invalidCardinality: wsaName('InvalidCardinality'),
  missingAddressInEPR: wsaName('MissingAddressInEPR'),
  duplicateMessageID: wsaName('DuplicateMessageID'),
  actionMismatch: wsaName('ActionMismatch'),
  onlyAnonymousAddressSupported: wsaName('OnlyAnonymousAddressSupported'),
  onlyNonAnonymousAddressSupported: wsaName('OnlyNonAnonymousAddressSupported'),
  messageAddressingHeaderRequired: wsaName('MessageAddressingHeaderRequired'),
  destinationUnreachable: wsaName('DestinationUnreachable'),
  actionNotSupported: wsaName('ActionNotSupported'),
  endpointUnavailable: wsaName('EndpointUnavailable'),
} as const;

/** WS-Security 1.1 §12 fault codes (used by the XUA layer). */
export const WSSE_FAULT = {
  unsupportedSecurityToken: wsseName('UnsupportedSecurityToken'),
  unsupportedAlgorithm: wsseName('UnsupportedAlgorithm'),
  invalidSecurity: wsseName('InvalidSecurity'),
  invalidSecurityToken: wsseName('InvalidSecurityToken'),
  failedAuthentication: wsseName('FailedAuthentication'),
  failedCheck: wsseName('FailedCheck'),
  securityTokenUnavailable: wsseName('SecurityTokenUnavailable'),
  messageExpired: wsseName('MessageExpired'),
} as const;

/**
 * wsa:ProblemHeaderQName detail (WS-Addressing SOAP Binding §6.4.1, §6.4.2) naming a wsa header.
 * The text is a QName: 'wsa' is the prefix serializeXml binds for NS.wsa on this very element.
 */
function problemHeader(wsaHeaderLocal: string): XmlElement {
  return el(NS.wsa, 'ProblemHeaderQName', {}, [`wsa:${wsaHeaderLocal}`]);
}

/** Sender / wsa:InvalidAddressingHeader / the given subsubcode, naming the offending wsa header. */
export function invalidAddressingHeader(subsubcode: QName, wsaHeaderLocal: string, reason: string): SoapFault {
  return new SoapFault({
    code: 'Sender',
    subcode: [WSA_FAULT.invalidAddressingHeader, subsubcode],
    reason,
    detail: problemHeader(wsaHeaderLocal),
  });
}

/** Sender / wsa:MessageAddressingHeaderRequired (a required addressing header is missing). */
export function messageAddressingHeaderRequired(wsaHeaderLocal: string): SoapFault {
  return new SoapFault({
    code: 'Sender',
    subcode: WSA_FAULT.messageAddressingHeaderRequired,
    reason: `A required header representing a Message Addressing Property is not present: wsa:${wsaHeaderLocal}`,
    detail: problemHeader(wsaHeaderLocal),
  });
}

/** Sender / wsa:ActionNotSupported, with wsa:ProblemAction (WS-Addressing SOAP Binding §6.4.4). */
export function actionNotSupported(action: string): SoapFault {
  return new SoapFault({
    code: 'Sender',
    subcode: WSA_FAULT.actionNotSupported,
    reason: `The [action] cannot be processed at the receiver: ${action}`,
    detail: el(NS.wsa, 'ProblemAction', {}, [el(NS.wsa, 'Action', {}, [action])]),
  });
}

/** Prefixes for the QNames written in env:Value; soap and wsa fixed, others numbered. */
class PrefixTable {
  private readonly byUri = new Map<string, string>([
    [NS.soap12, 'soap'],
    [NS.wsa, 'wsa'],
  ]);
  private next = 1;

  prefixed(name: QName): string {
    if (name.ns === '') return name.local;
    let p = this.byUri.get(name.ns);
    if (p === undefined) {
      p = `f${this.next++}`;
      this.byUri.set(name.ns, p);
    }
    return `${p}:${name.local}`;
  }

  declarations(): string {
    let s = '';
    for (const [uri, p] of this.byUri) s += ` xmlns:${p}="${escapeAttribute(uri)}"`;
    return s;
  }
}

/** The env:Fault element as self-contained XML text (all prefixes it uses declared on it). */
export function faultBodyXml(fault: SoapFault): string {
  const prefixes = new PrefixTable();
  let subcodes = '';
  let closing = '';
  for (const sc of fault.subcodes) {
    subcodes += `<soap:Subcode><soap:Value>${escapeText(prefixes.prefixed(sc))}</soap:Value>`;
    closing += '</soap:Subcode>';
  }
  const detail =
    fault.detail.length > 0 ? `<soap:Detail>${fault.detail.map((d) => serializeXml(d)).join('')}</soap:Detail>` : '';
  return (
    `<soap:Fault${prefixes.declarations()}>` +
    `<soap:Code><soap:Value>soap:${fault.code}</soap:Value>${subcodes}${closing}</soap:Code>` +
    `<soap:Reason><soap:Text xml:lang="en">${escapeText(fault.reason)}</soap:Text></soap:Reason>` +
    detail +
    `</soap:Fault>`
  );
}

/**
 * Extra header blocks a fault carries: env:NotUnderstood (SOAP 1.2 Part 1 §5.4.8) for MustUnderstand
 * faults, env:Upgrade (§5.4.7) for VersionMismatch faults.
 */
export function faultHeaderXml(fault: SoapFault): string[] {
  if (fault.code === 'VersionMismatch') return [upgradeHeaderXml()];
  return fault.notUnderstood.map((q) =>
    q.ns === ''
      ? `<soap:NotUnderstood xmlns:soap="${NS.soap12}" qname="${escapeAttribute(q.local)}"/>`
      : `<soap:NotUnderstood xmlns:soap="${NS.soap12}" xmlns:nu="${escapeAttribute(q.ns)}" qname="nu:${escapeAttribute(q.local)}"/>`,
  );
}

/**
 * A complete SOAP 1.1 VersionMismatch fault with the SOAP 1.2 env:Upgrade header block
 * (SOAP 1.2 Part 1 §5.4.7 and Appendix A), telling the sender which envelope we support.
 */
export function soap11VersionMismatchXml(fault: SoapFault): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<s11:Envelope xmlns:s11="${NS.soap11}">` +
    `<s11:Header><soap:Upgrade xmlns:soap="${NS.soap12}"><soap:SupportedEnvelope qname="soap:Envelope"/></soap:Upgrade></s11:Header>` +
    `<s11:Body><s11:Fault><faultcode>s11:VersionMismatch</faultcode><faultstring>${escapeText(fault.reason)}</faultstring></s11:Fault></s11:Body>` +
    `</s11:Envelope>`
  );
}

/** env:Upgrade header block for a SOAP 1.2 VersionMismatch fault (an Envelope in an unknown namespace). */
export function upgradeHeaderXml(): string {
  return `<soap:Upgrade xmlns:soap="${NS.soap12}"><soap:SupportedEnvelope qname="soap:Envelope"/></soap:Upgrade>`;
}
