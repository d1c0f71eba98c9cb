/**
 * The tree of a document costs tens of bytes of heap per byte of `<a/>`; without a count of
 * elements, a large request of empty elements would exhaust the heap before any other limit.
 */
import { expect } from 'chai';
import { DEFAULT_MAX_ELEMENTS, parseXml, XmlParseError } from '../../registry/xml/parse.js';
import { startTestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';

function refusal(fn: () => unknown): XmlParseError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(XmlParseError);
    return e as XmlParseError;
  }
  throw new Error('expected an XmlParseError');
}

describe('parseXml: the element cap', () => {
  it('refuses a document with more elements than maxElements, naming the cap', () => {
    expect(parseXml('<r><a/><a/><a/></r>', { maxElements: 4 }).children).to.have.length(3);
    const e = refusal(() => parseXml('<r><a/><a/><a/><a/></r>', { maxElements: 4 }));
    expect(e.reason).to.equal('malformed');
    expect(e.limit).to.equal('maxElements');
  });

  it('by default stops a flood of empty elements early, with bounded heap', () => {
    const flood = `<r>${'<a/>'.repeat(DEFAULT_MAX_ELEMENTS + 1)}</r>`;
    const before = process.memoryUsage().heapUsed;
    const e = refusal(() => parseXml(flood));
    expect(e.limit).to.equal('maxElements');
    // 2 million elements cost well under a gigabyte; the point is that the count ends it.
    expect(process.memoryUsage().heapUsed - before).to.be.below(1024 * 1024 * 1024);
  });

  it('limits.xml configures the caps of the SOAP endpoints: beyond them a Sender fault, the node stays up', async () => {
    const node = await startTestNode({ limits: { xml: { maxElements: 1_000 } } });
    try {
      const res = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti18.request, `<q>${'<a/>'.repeat(1_500)}</q>`);
      expect(res.httpStatus).to.equal(400);
      expect(res.text).to.include('Sender').and.include('1000 elements');
      expect((await fetch(`${node.url}/health`)).status).to.equal(200);
    } finally {
      await node.close();
    }
  });
});
