import { expect } from 'chai';
import express from 'express';
import http, { IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { directPosts, type RoutedHandler } from '../../connector/http/direct-posts.js';

/** What a mounted handler saw of the request, echoed as JSON. */
const echo =
  (name: string): RoutedHandler =>
  (req, res) => {
    const body = JSON.stringify({
      name,
      url: req.url,
      originalUrl: req.originalUrl,
      ownResponse: req.res === res,
      // A request express routed has express's prototype; one taken directly keeps Node's.
      express: Object.getPrototypeOf(req) !== IncomingMessage.prototype,
    });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
  };

async function serve(listener: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function call(url: string, method = 'POST'): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string }> {
  const res = await fetch(url, { method, ...(method === 'POST' ? { body: '<x/>' } : {}) });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

describe('direct POSTs to the SOAP endpoints (connector/http/direct-posts.ts)', () => {
  it('takes a POST to an exact path directly, with what express would have set; everything else goes through express', async () => {
    const app = express();
    const soap = echo('soap');
    app.use('/xds/registry', soap);
    const node = await serve(directPosts(app, [{ path: '/xds/registry', handler: soap }], ['/health', '/metrics']));
    try {
      const direct = await call(`${node.url}/xds/registry`);
      expect(direct.json).to.deep.equal({ name: 'soap', url: '/', originalUrl: '/xds/registry', ownResponse: true, express: false });
      // The same handler through express: the same view of the request.
      for (const [path, url] of [
        ['/xds/registry?wsdl', '/?wsdl'],
        ['/xds/registry/', '/'],
        ['/XDS/registry', '/'],
        ['/xds/registry/more', '/more'],
      ] as const) {
        const routed = await call(`${node.url}${path}`);
        expect(routed.json, path).to.deep.equal({ name: 'soap', url, originalUrl: path, ownResponse: true, express: true });
      }
      const get = await call(`${node.url}/xds/registry`, 'GET');
      expect(get.json).to.include({ name: 'soap', express: true });
      // A path nothing is mounted at: express's own 404.
      expect((await call(`${node.url}/xds/other`)).status).to.equal(404);
    } finally {
      await node.close();
    }
  });

  it('leaves an endpoint to express when another mount overlaps its path, so the first layer still wins', async () => {
    const app = express();
    const outer = echo('outer');
    const soap = echo('soap');
    app.use('/xds', outer);
    app.use('/xds/registry', soap);
    app.use('/xds/repository', echo('first'));
    const repository = echo('second');
    app.use('/xds/repository', repository);
    const node = await serve(
      directPosts(
        app,
        [
          { path: '/xds/registry', handler: soap },
          { path: '/xds/repository', handler: repository },
        ],
        ['/xds'],
      ),
    );
    try {
      expect((await call(`${node.url}/xds/registry`)).json).to.include({ name: 'outer', express: true });
      expect((await call(`${node.url}/xds/repository`)).json).to.include({ name: 'outer', express: true });
    } finally {
      await node.close();
    }
  });

  it('answers 404 when a handler taken directly passes the request on, as express would with nothing after it', async () => {
    const app = express();
    const passes: RoutedHandler = (_req, _res, next) => next();
    const fails: RoutedHandler = (_req, _res, next) => next(new Error('broken'));
    app.use('/a', passes);
    app.use('/b', fails);
    const node = await serve(
      directPosts(
        app,
        [
          { path: '/a', handler: passes },
          { path: '/b', handler: fails },
        ],
        [],
      ),
    );
    try {
      const a = await call(`${node.url}/a`);
      expect(a.status).to.equal(404);
      expect(a.text).to.equal('Cannot POST /a\n');
      expect((await call(`${node.url}/b`)).status).to.equal(500);
    } finally {
      await node.close();
    }
  });
});
