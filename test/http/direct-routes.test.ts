import { expect } from 'chai';
import express from 'express';
import http, { IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { belowMount, directRoutes, type RoutedHandler } from '../../connector/http/direct-routes.js';

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

describe('direct routes: SOAP POSTs and the MHD subtree past express (connector/http/direct-routes.ts)', () => {
  it('takes a POST to an exact path directly, with what express would have set; everything else goes through express', async () => {
    const app = express();
    const soap = echo('soap');
    app.use('/xds/registry', soap);
    const node = await serve(directRoutes(app, [{ path: '/xds/registry', handler: soap, takes: 'posts' }], ['/health', '/metrics']));
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
      directRoutes(
        app,
        [
          { path: '/xds/registry', handler: soap, takes: 'posts' },
          { path: '/xds/repository', handler: repository, takes: 'posts' },
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
      directRoutes(
        app,
        [
          { path: '/a', handler: passes, takes: 'posts' },
          { path: '/b', handler: fails, takes: 'subtree' },
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

  it('takes every method at or below a subtree path directly, handing the handler the URL express would', async () => {
    const fhir = echo('fhir');
    const routed = express();
    routed.use('/fhir', fhir);
    const express_ = await serve(routed);
    const app = express();
    app.use('/health', echo('health'));
    app.use('/fhir', fhir);
    const node = await serve(directRoutes(app, [{ path: '/fhir', handler: fhir, takes: 'subtree' }], ['/health', '/metrics']));
    try {
      const taken = ['/fhir', '/fhir/', '/fhir?a=1', '/fhir/?a=1', '/fhir/metadata', '/fhir/DocumentReference?patient=x&status=current', '/fhir/DocumentReference/', '/fhir/DocumentReference/_search?x=%2F', '/fhir/Binary/1.2.3'];
      for (const path of taken) {
        for (const method of ['GET', 'POST', 'DELETE']) {
          const direct = await call(`${node.url}${path}`, method);
          const viaExpress = await call(`${express_.url}${path}`, method);
          expect(direct.json, `${method} ${path}`).to.deep.equal({ ...viaExpress.json, express: false });
          expect(viaExpress.json, `${method} ${path}`).to.include({ express: true });
        }
      }
      // Not letter for letter, an empty segment, another path: express decides, as before.
      for (const [path, name] of [
        ['/FHIR/metadata', 'fhir'],
        ['/fhir//metadata', 'fhir'],
        ['/health', 'health'],
      ] as const) {
        expect((await call(`${node.url}${path}`, 'GET')).json, path).to.include({ name, express: true });
      }
      expect((await call(`${node.url}/fhirx`, 'GET')).status).to.equal(404);
    } finally {
      await node.close();
      await express_.close();
    }
  });

  it('gives the URL below a mount only for URLs at or below it letter for letter', () => {
    expect(belowMount('/fhir', '/fhir')).to.equal('/');
    expect(belowMount('/fhir?x=1', '/fhir')).to.equal('/?x=1');
    expect(belowMount('/fhir/', '/fhir')).to.equal('/');
    expect(belowMount('/fhir/List?x=1', '/fhir')).to.equal('/List?x=1');
    for (const url of ['/fhirx', '/FHIR', '/fhir//List', '/fhi', '/fhir#x', 'http://host/fhir']) expect(belowMount(url, '/fhir'), url).to.equal(undefined);
  });

  it('leaves a subtree to express when another mount overlaps it, and a SOAP path inside it too', async () => {
    const app = express();
    const outer = echo('outer');
    const fhir = echo('fhir');
    const soap = echo('soap');
    app.use('/fhir/xds', soap);
    app.use('/fhir', fhir);
    app.use('/api', outer);
    const api = echo('api');
    app.use('/api/fhir', api);
    const node = await serve(
      directRoutes(
        app,
        [
          { path: '/fhir', handler: fhir, takes: 'subtree' },
          { path: '/fhir/xds', handler: soap, takes: 'posts' },
          { path: '/api/fhir', handler: api, takes: 'subtree' },
        ],
        ['/api'],
      ),
    );
    try {
      expect((await call(`${node.url}/fhir/xds`)).json).to.include({ name: 'soap', express: true });
      expect((await call(`${node.url}/fhir/metadata`, 'GET')).json).to.include({ name: 'fhir', express: true });
      expect((await call(`${node.url}/api/fhir/metadata`, 'GET')).json).to.include({ name: 'outer', express: true });
    } finally {
      await node.close();
    }
  });
});
