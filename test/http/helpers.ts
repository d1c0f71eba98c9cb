/** A raw HTTPS client for the mutual-TLS tests: every request on a fresh connection with its own certificate. */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';

export const TLS_CERTS = join(import.meta.dirname, '..', '..', 'fixtures', 'certs', 'tls');
export const tlsFile = (name: string): string => join(TLS_CERTS, name);
const pem = (name: string): Buffer => readFileSync(tlsFile(name));

export type ClientCert = 'trusted' | 'rogue' | 'none';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export function httpsRequest(
  url: string,
  options: { method?: string; body?: string; contentType?: string; client: ClientCert; headers?: Record<string, string>; timeoutMs?: number },
): Promise<RawResponse> {
  const clientTls =
    options.client === 'trusted'
      ? { cert: pem('client.pem'), key: pem('client.key') }
      : options.client === 'rogue'
        ? { cert: pem('rogue-client.pem'), key: pem('rogue-client.key') }
        : {};
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? (options.body !== undefined ? 'POST' : 'GET'),
        ca: pem('ca.pem'),
        ...clientTls,
        agent: false,
        headers: {
          ...(options.contentType ? { 'content-type': options.contentType } : {}),
          ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
        timeout: options.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}
