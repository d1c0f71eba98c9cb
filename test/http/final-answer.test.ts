/**
 * What the node answers where no endpoint takes a request, or a handler passes an error on
 * (connector/http/final-answer.ts): a short plain-text answer with the status, never express's
 * HTML page, which with NODE_ENV unset carries the error's stack trace and the node's file paths.
 */
import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import winston from 'winston';
import { Writable } from 'node:stream';
import { finalAnswer } from '../../connector/http/final-answer.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

interface Answer {
  readonly status: number;
  readonly type: string | null;
  readonly nosniff: string | null;
  readonly text: string;
}

async function send(base: string, method: string, path: string): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type'), nosniff: res.headers.get('x-content-type-options'), text: await res.text() };
}

describe("the node's final answer", function () {
  this.timeout(30_000);

  describe('on the node', () => {
    let node: TestNode;
    before(async () => {
      node = await startTestNode({});
    });
    after(async () => node?.close());

    it('a path nothing serves: 404, plain text, the path without its query', async () => {
      expect(await send(node.url, 'GET', '/nothing/here?secret=1')).to.deep.equal({
        status: 404,
        type: 'text/plain; charset=utf-8',
        nosniff: 'nosniff',
        text: 'Cannot GET /nothing/here\n',
      });
    });
  });

  describe('behind express routes that fail', () => {
    let server: Server;
    let base: string;
    const logged: Record<string, unknown>[] = [];
    before(async () => {
      const lines = new Writable({
        objectMode: true,
        write(info: Record<string, unknown>, _encoding, done) {
          logged.push(info);
          done();
        },
      });
      const logger = winston.createLogger({ transports: [new winston.transports.Stream({ stream: lines })] });
      const app = express();
      app.get('/throws', () => {
        throw new Error('a bug with internals in its message');
      });
      // express decodes a route parameter before the route runs: a malformed one is a 400 URIError.
      app.get('/item/:id', (_req, res) => {
        res.end('never');
      });
      app.use((req: express.Request, res: express.Response) => finalAnswer(req, res, undefined));
      app.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => finalAnswer(req, res, err, logger));
      server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });

    it("a handler's error: 500 without the message or stack, which go to the log", async () => {
      const r = await send(base, 'GET', '/throws?x=1');
      expect(r).to.deep.equal({ status: 500, type: 'text/plain; charset=utf-8', nosniff: 'nosniff', text: '500 Internal Server Error\n' });
      const line = logged.find((l) => l.message === 'request failed outside any endpoint');
      expect(line).to.include({ method: 'GET', path: '/throws', error: 'a bug with internals in its message' });
      expect(String(line!.stack)).to.contain('final-answer.test.ts');
    });

    it('an HTTP error passed on (a malformed percent-encoding in a route parameter): its status, no stack', async () => {
      const r = await send(base, 'GET', '/item/%E0%A4%A');
      expect(r).to.deep.equal({ status: 400, type: 'text/plain; charset=utf-8', nosniff: 'nosniff', text: '400 Bad Request\n' });
    });
  });
});
