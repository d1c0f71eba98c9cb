/** Shared helpers for the trust tests: a verifier pinned to the test issuer, envelope parsing. */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { XuaVerifier, type XuaVerifierOptions } from '../../connector/trust/xua.js';
import { SoapFault, type QName } from '../../connector/soap/fault.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { childElement, type XmlElement } from '../../registry/xml/tree.js';
import { FIXTURE_CERTS } from '../../scripts/sign-assertion.js';

export const NOW = new Date('2026-11-23T12:00:00.000Z');
export const TEST_ISSUER = 'https://idp.test.koblingspunkt.example';
export const TEST_AUDIENCE = 'urn:koblingspunkt:test';
export const ISSUER_PEM = readFileSync(`${FIXTURE_CERTS}/issuer.pem`, 'utf8');

export function verifier(overrides: Partial<XuaVerifierOptions> = {}): XuaVerifier {
  return new XuaVerifier({
    certificates: [ISSUER_PEM],
    issuers: [TEST_ISSUER],
    audiences: [TEST_AUDIENCE],
    clockSkewSeconds: 300,
    allowSha1: false,
    requireTimestamp: false,
    cacheSize: 100,
    now: () => NOW,
    ...overrides,
  });
}

export function headerOf(envelope: string): XmlElement | undefined {
  return childElement(parseXml(envelope), NS.soap12, 'Header');
}

/** Verifies a whole envelope text the way the SOAP layer would hand it over. */
export function verifyEnvelope(v: XuaVerifier, envelope: string | Buffer) {
  const header = headerOf(typeof envelope === 'string' ? envelope : envelope.toString('utf8'));
  return v.verify({ header, rawEnvelope: envelope });
}

/** Asserts that fn throws a SoapFault env:Sender with the given wsse subcode. */
export function expectFault(fn: () => unknown, subcode: QName, reason?: RegExp): SoapFault {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a SoapFault').to.be.instanceOf(SoapFault);
  const fault = thrown as SoapFault;
  expect(fault.code).to.equal('Sender');
  expect(fault.subcode).to.deep.equal(subcode);
  if (reason) expect(fault.reason).to.match(reason);
  return fault;
}
