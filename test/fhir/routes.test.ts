import { expect } from 'chai';
import { FhirError } from '../../connector/fhir/http/answer.js';
import { routeTable } from '../../connector/fhir/http/routes.js';
import { pathOf } from '../../connector/http/request-path.js';

/**
 * The MHD endpoint's own routing (connector/fhir/http/routes.ts) matches as the express Router it
 * replaced (caseSensitive, strict: false, path-to-regexp 8): test/fhir/http-direct.test.ts checks
 * the node's answers both ways; these are the matching rules one by one.
 */
describe('MHD routes (connector/fhir/http/routes.ts)', () => {
  const routes = routeTable<string>([
    { path: '/metadata', methods: { GET: 'metadata' } },
    { path: '/', methods: { POST: 'provide' } },
    { path: '/DocumentReference', methods: { GET: 'search' } },
    { path: '/DocumentReference/_search', methods: { POST: 'search form' } },
    { path: '/DocumentReference/:id', methods: { GET: 'read' } },
  ]);
  const handler = (method: string, url: string) => {
    const found = routes(method, url);
    return found.kind === 'handler' ? [found.handler, found.params] : found.kind === 'method' ? ['405', found.allow] : ['404'];
  };

  it('matches letter for letter, with one trailing slash, without the query', () => {
    expect(handler('GET', '/metadata')).to.deep.equal(['metadata', {}]);
    expect(handler('GET', '/metadata/')).to.deep.equal(['metadata', {}]);
    expect(handler('GET', '/metadata?_format=json')).to.deep.equal(['metadata', {}]);
    expect(handler('GET', '/metadata#top')).to.deep.equal(['metadata', {}]);
    expect(handler('GET', '/metadata//')).to.deep.equal(['404']);
    expect(handler('GET', '/Metadata')).to.deep.equal(['404']);
    expect(handler('POST', '/')).to.deep.equal(['provide', {}]);
    expect(handler('POST', '/?x=1')).to.deep.equal(['provide', {}]);
    expect(handler('POST', '//')).to.deep.equal(['provide', {}]);
  });

  it('takes a parameter from one non-empty segment, percent-decoded, after the literal routes before it', () => {
    expect(handler('GET', '/DocumentReference/abc')).to.deep.equal(['read', { id: 'abc' }]);
    expect(handler('GET', '/DocumentReference/abc/')).to.deep.equal(['read', { id: 'abc' }]);
    expect(handler('GET', '/DocumentReference/a%2Fb')).to.deep.equal(['read', { id: 'a/b' }]);
    expect(handler('GET', '/DocumentReference/a/b')).to.deep.equal(['404']);
    expect(handler('GET', '/DocumentReference//')).to.deep.equal(['404']);
    // The first route whose path matches decides: _search is not an id.
    expect(handler('GET', '/DocumentReference/_search')).to.deep.equal(['405', 'POST']);
    expect(() => routes('GET', '/DocumentReference/%E0%A4%A')).to.throw(FhirError).with.property('status', 400);
  });

  it('answers HEAD with GET and names the methods of a known path otherwise', () => {
    expect(handler('HEAD', '/DocumentReference?x=1')).to.deep.equal(['search', {}]);
    expect(handler('DELETE', '/DocumentReference')).to.deep.equal(['405', 'GET']);
    expect(handler('OPTIONS', '/metadata')).to.deep.equal(['405', 'GET']);
    expect(handler('GET', '/')).to.deep.equal(['405', 'POST']);
    expect(handler('HEAD', '/')).to.deep.equal(['405', 'POST']);
    expect(handler('GET', '/Patient')).to.deep.equal(['404']);
  });

  it('reads the path of a URL as express did', () => {
    expect(pathOf('/a/b?c=d#e')).to.equal('/a/b');
    expect(pathOf('/a#b?c')).to.equal('/a');
    expect(pathOf('/a')).to.equal('/a');
  });
});
