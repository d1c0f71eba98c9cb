/**
 * Mints a HelseID-shaped TEST access token (and, on request, a DPoP proof) with the TEST-ONLY
 * keys in fixtures/helseid/, for trying a node's MHD endpoints by hand. A node verifies these only
 * when its `helseid.jwks.file` is fixtures/helseid/jwks.json, which no deployment may do.
 *
 *   npx tsx scripts/mint-helseid-token.ts [--patient FNR] [--pid FNR] [--hpr N] [--org ORGNR]
 *       [--child ORGNR] [--scopes "a b"] [--expires SECONDS] [--audience A] [--issuer I]
 *       [--key issuer-rsa|issuer-ec] [--purpose TREAT] [--no-attestation]
 *       [--dpop --method GET --url https://host/path]
 *
 * Without --dpop it prints the token. With --dpop the token is bound to the fixture client key
 * (cnf.jkt) and two header lines are printed, ready for `curl -H`:
 *
 *   Authorization: DPoP eyJ…
 *   DPoP: eyJ…
 *
 * A proof is good for one request within the verifier's clock skew (30 s by default).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintDpopProof, mintTestToken, type FixtureKeyName, type TestTokenOptions } from '../fixtures/helseid/mint.js';

export { mintDpopProof, mintTestToken, type DpopProofOptions, type TestTokenOptions } from '../fixtures/helseid/mint.js';

const USAGE =
  'usage: npx tsx scripts/mint-helseid-token.ts [--patient FNR] [--pid FNR] [--hpr N] [--org ORGNR] [--child ORGNR] ' +
  '[--scopes "a b"] [--expires SECONDS] [--audience A] [--issuer I] [--key issuer-rsa|issuer-ec] [--purpose CODE] ' +
  '[--no-attestation] [--dpop --method M --url URL]';

class UsageError extends Error {}

/** The token options and proof request a command line asks for. */
export function optionsFromArgs(argv: readonly string[]): { token: TestTokenOptions; proof?: { method: string; url: string } } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        patient: { type: 'string' },
        pid: { type: 'string' },
        hpr: { type: 'string' },
        org: { type: 'string' },
        child: { type: 'string' },
        scopes: { type: 'string' },
        expires: { type: 'string' },
        audience: { type: 'string' },
        issuer: { type: 'string' },
        key: { type: 'string' },
        purpose: { type: 'string' },
        'no-attestation': { type: 'boolean' },
        dpop: { type: 'boolean' },
        method: { type: 'string' },
        url: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const key = values.key ?? 'issuer-rsa';
  if (key !== 'issuer-rsa' && key !== 'issuer-ec') throw new UsageError(`--key must be issuer-rsa or issuer-ec, got "${key}"`);
  let expiresInSeconds: number | undefined;
  if (values.expires !== undefined) {
    expiresInSeconds = Number(values.expires);
    if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds <= 0) throw new UsageError(`--expires must be a positive number of seconds, got "${values.expires}"`);
  }
  const token: TestTokenOptions = {
    key: key as FixtureKeyName,
    ...(values.patient !== undefined ? { patient: values.patient } : {}),
    ...(values.pid !== undefined ? { pid: values.pid } : {}),
    ...(values.hpr !== undefined ? { hpr: values.hpr } : {}),
    ...(values.org !== undefined ? { orgnrParent: values.org } : {}),
    ...(values.child !== undefined ? { orgnrChild: values.child } : {}),
    ...(values.scopes !== undefined ? { scopes: values.scopes.split(/[\s,]+/).filter((s) => s !== '') } : {}),
    ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}),
    ...(values.audience !== undefined ? { audience: values.audience } : {}),
    ...(values.issuer !== undefined ? { issuer: values.issuer } : {}),
    ...(values.purpose !== undefined ? { purposeOfUse: { code: values.purpose, system: 'urn:oid:2.16.840.1.113883.1.11.20448' } } : {}),
    ...(values['no-attestation'] ? { attestation: null } : {}),
    ...(values.dpop ? { dpopKey: 'dpop-client-ec' as const } : {}),
  };
  if (!values.dpop) {
    if (values.method !== undefined || values.url !== undefined) throw new UsageError('--method and --url go with --dpop');
    return { token };
  }
  if (values.method === undefined || values.url === undefined) throw new UsageError('--dpop needs --method and --url');
  try {
    new URL(values.url);
  } catch {
    throw new UsageError(`--url must be an absolute URL, got "${values.url}"`);
  }
  return { token, proof: { method: values.method.toUpperCase(), url: values.url } };
}

async function main(argv: readonly string[]): Promise<void> {
  const { token: tokenOptions, proof } = optionsFromArgs(argv);
  const token = await mintTestToken(tokenOptions);
  if (!proof) {
    process.stdout.write(`${token}\n`);
    return;
  }
  const dpop = await mintDpopProof({ method: proof.method, url: proof.url, accessToken: token });
  process.stdout.write(`Authorization: DPoP ${token}\nDPoP: ${dpop}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof UsageError ? `${e.message}\n${USAGE}` : String(e)}\n`);
    process.exitCode = 2;
  });
}
