/**
 * The signed SAML assertions the signature-wrapping cases start from: one signed by the pinned
 * test issuer, one by the attacker's key. Made once per run with fixed IDs and instants, so the
 * bytes (RSA PKCS#1 v1.5 signatures are deterministic) depend on nothing but the seed.
 */
import { buildAssertion, defaultAssertionOptions, signAssertion, testKey } from '../sign-assertion.js';
import type { AssertionKit } from './mutate.js';
import type { Rng } from './random.js';

export function makeAssertionKit(rng: Rng): AssertionKit {
  const now = new Date(Date.UTC(2026, 10, 23, 12, 0, 0) + rng.int(0, 86_400) * 1000);
  const options = { ...defaultAssertionOptions(now), id: `_${rng.uuid()}` };
  const xml = buildAssertion(options);
  return {
    signed: signAssertion(xml, testKey('issuer')),
    attackerSigned: signAssertion(xml, testKey('attacker')),
  };
}
