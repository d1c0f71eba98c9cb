/**
 * Cold LeafClass answers (registry read cache off: every entry's element inflated from its stored
 * form into the answer's arena, byte-slab.ts) sent many at once: each answer keeps its own bytes
 * while arenas are released and their blocks reused by the answers after it. (That an arena is
 * released only once its response has finished, however long a slow client keeps it, is
 * answer-arena.test.ts's: on loopback the kernel takes whole answers at once.)
 */
import { expect } from 'chai';
import { ACTIONS } from '../../connector/soap/actions.js';
import { cx, epikrise, findDocumentsBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { postSoap } from '../helpers/soap.js';

const PATIENTS = ['13116900216', '01017012343', '02027012372'].map(cx);
const DOCUMENTS_PER_PATIENT = 12;
/** The answer's registry objects, as sent (the envelope around them differs per request). */
function objectList(text: string): string {
  const start = text.indexOf('<rim:RegistryObjectList');
  const end = text.indexOf('</rim:RegistryObjectList>');
  if (start < 0 || end < 0) throw new Error(`no RegistryObjectList in ${text.slice(0, 300)}`);
  return text.slice(start, end);
}

describe('cold LeafClass answers sent concurrently', function () {
  this.timeout(60_000);
  let node: TestNode;
  const registry = (): string => `${node.url}/xds/registry`;

  before(async () => {
    node = await startTestNode({ registry: { cacheEntries: 0 } });
    for (const patient of PATIENTS) {
      for (let i = 0; i < DOCUMENTS_PER_PATIENT; i++) {
        expect(status((await postSoap(registry(), ACTIONS.iti42.request, epikrise({ patient }).xml)).body)).to.equal('Success');
      }
    }
  });

  after(async () => node?.close());

  it('gives every one of 300 concurrent answers exactly the bytes of the same answer asked alone', async () => {
    const expected = new Map<string, string>();
    for (const patient of PATIENTS) {
      const alone = await postSoap(registry(), ACTIONS.iti18.request, findDocumentsBody(patient));
      expect(status(alone.body)).to.equal('Success');
      const list = objectList(alone.text);
      expect(list.split('<rim:ExtrinsicObject ').length - 1).to.equal(DOCUMENTS_PER_PATIENT);
      expected.set(patient, list);
    }
    const asked = Array.from({ length: 300 }, (_, i) => PATIENTS[i % PATIENTS.length]!);
    const answers = await Promise.all(asked.map((patient) => postSoap(registry(), ACTIONS.iti18.request, findDocumentsBody(patient))));
    answers.forEach((answer, i) => expect(objectList(answer.text), `answer ${i}`).to.equal(expected.get(asked[i]!)));
  });
});
