/**
 * One POST over loopback with a hard deadline. Raw node:http rather than fetch, so that a request
 * the node answers early (413 before the body was read) still yields the answer it sent, and a
 * connection the node drops is reported as such rather than retried.
 */
import http from 'node:http';
import type { HttpAnswer } from './judge.js';

export type SendResult =
  | { readonly kind: 'answer'; readonly answer: HttpAnswer; readonly ms: number }
  | { readonly kind: 'timeout'; readonly ms: number }
  | { readonly kind: 'connection'; readonly error: string; readonly ms: number };

export function send(url: string, contentType: string | undefined, body: Buffer, timeoutMs: number, agent: http.Agent): Promise<SendResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    let responded: { status: number; contentType: string; chunks: Buffer[] } | undefined;
    const finish = (r: SendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const answered = (): void => {
      if (!responded) return;
      const answer: HttpAnswer = { status: responded.status, contentType: responded.contentType, body: Buffer.concat(responded.chunks) };
      finish({ kind: 'answer', answer, ms: Date.now() - started });
    };
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { ...(contentType !== undefined ? { 'content-type': contentType } : {}), 'content-length': String(body.length) },
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ kind: 'timeout', ms: Date.now() - started });
    }, timeoutMs);
    req.on('response', (res) => {
      const r = { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), chunks: [] as Buffer[] };
      responded = r;
      res.on('data', (c: Buffer) => r.chunks.push(c));
      // 'close' also follows a cut-off body: the judge then finds it unparseable.
      res.on('end', answered);
      res.on('close', answered);
      res.on('error', () => answered());
    });
    req.on('error', (e) => {
      // Writing the rest of a body the node already refused fails with EPIPE/ECONNRESET once
      // the answer is in: the answer counts, not the broken upload.
      if (responded) return;
      finish({ kind: 'connection', error: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim(), ms: Date.now() - started });
    });
    req.end(body);
  });
}
