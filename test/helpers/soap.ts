/** A minimal SOAP 1.2 client for tests: real HTTP, real envelopes, no project code on the sending side. */
import { randomUUID } from 'node:crypto';
import { parseXml } from '../../registry/xml/parse.js';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, type XmlElement } from '../../registry/xml/tree.js';

export interface SoapResult {
  readonly httpStatus: number;
  readonly contentType: string;
  readonly text: string;
  readonly envelope: XmlElement;
  /** First element child of the Body. */
  readonly body: XmlElement;
}

export function envelope(action: string, to: string, bodyXml: string, extraHeaders = ''): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soap:Envelope xmlns:soap="${NS.soap12}" xmlns:wsa="${NS.wsa}">` +
    `<soap:Header>` +
    `<wsa:Action soap:mustUnderstand="1">${action}</wsa:Action>` +
    `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsa:To soap:mustUnderstand="1">${to}</wsa:To>` +
    extraHeaders +
    `</soap:Header><soap:Body>${bodyXml}</soap:Body></soap:Envelope>`
  );
}

/** Posts a raw body and parses the SOAP answer (plain or the root part of an MTOM answer). */
export async function postRaw(url: string, body: string | Uint8Array, contentType: string): Promise<SoapResult> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType }, body: typeof body === "string" ? body : new Uint8Array(body) });
  const ct = res.headers.get('content-type') ?? '';
  const buf = Buffer.from(await res.arrayBuffer());
  let xml = buf.toString('utf8');
  if (ct.startsWith('multipart/related')) {
    const start = xml.indexOf('<');
    const envStart = xml.search(/<([A-Za-z0-9_]+:)?Envelope[\s>]/);
    const from = envStart >= 0 ? envStart : start;
    const end = xml.search(/<\/([A-Za-z0-9_]+:)?Envelope>/);
    xml = xml.slice(from, xml.indexOf('>', end) + 1);
  }
  const env = parseXml(xml);
  const soapBody = childElement(env, NS.soap12, 'Body');
  const first = soapBody ? childElements(soapBody)[0] : undefined;
  if (!first) throw new Error(`no SOAP body element in answer: ${xml.slice(0, 300)}`);
  return { httpStatus: res.status, contentType: ct, text: xml, envelope: env, body: first };
}

export function postSoap(url: string, action: string, bodyXml: string, extraHeaders = ''): Promise<SoapResult> {
  return postRaw(url, envelope(action, url, bodyXml, extraHeaders), `application/soap+xml; charset=UTF-8; action="${action}"`);
}
