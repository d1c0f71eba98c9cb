import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { derivedId, serializeRegistryObjectList } from '../../registry/ebxml/index.js';
import type { RegistryObject } from '../../registry/model/metadata.js';
import { NS } from '../../registry/xml/namespaces.js';
import { descendants } from '../../registry/xml/tree.js';
import { richSubmission } from './fixtures.js';

/** RFC 4122 section 4.3 (version 5, SHA-1) over our name `koblingspunkt:<owner>#<position>`, written out with a Buffer. */
function referenceId(owner: string, position: number): string {
  const h = createHash('sha1').update(`koblingspunkt:${owner}#${position}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function objects(): RegistryObject[] {
  const s = richSubmission();
  return [...s.documentEntries, s.submissionSet, ...s.folders, ...s.associations];
}

describe('derivedId', () => {
  it('is the version-5 name-based UUID it always was, for every variant digit', () => {
    const variants = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const owner = i % 2 === 0 ? `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}` : `Document${i}`;
      const id = derivedId(owner, i % 17);
      expect(id).to.equal(referenceId(owner, i % 17));
      expect(id).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      variants.add(id.charAt(28));
    }
    expect([...variants].sort()).to.deep.equal(['8', '9', 'a', 'b']);
    // One value written down, so that a change of the name or the hash cannot go unnoticed.
    expect(derivedId('Document01', 0)).to.equal(referenceId('Document01', 0));
    expect(derivedId('Document01', 0)).to.equal('urn:uuid:25e8cd48-f4f0-5ddd-a2ba-57f296a290bb');
  });
});

describe('LeafClass writing', () => {
  it('gives every child the same ids in every answer, all distinct within the answer', () => {
    const first = serializeRegistryObjectList(objects(), 'LeafClass');
    const second = serializeRegistryObjectList(objects(), 'LeafClass');
    const ids = (list: typeof first) =>
      [...descendants(list, NS.rim, 'Classification'), ...descendants(list, NS.rim, 'ExternalIdentifier')].map((e) => e.attrs['id']!);
    expect(ids(first)).to.deep.equal(ids(second));
    const all = [...ids(first), ...objects().map((o) => o.entryUuid)];
    expect(new Set(all).size).to.equal(all.length);
    expect(ids(first).length).to.be.greaterThan(20);
  });

  it('points every Classification and ExternalIdentifier at its owner and numbers derived ids in document order', () => {
    const list = serializeRegistryObjectList(objects(), 'LeafClass');
    const eo = descendants(list, NS.rim, 'ExtrinsicObject')[0]!;
    const owner = eo.attrs['id']!;
    const classifications = descendants(eo, NS.rim, 'Classification');
    const identifiers = descendants(eo, NS.rim, 'ExternalIdentifier');
    expect(classifications.every((c) => c.attrs['classifiedObject'] === owner)).to.equal(true);
    expect(identifiers.every((x) => x.attrs['registryObject'] === owner)).to.equal(true);
    // The first child is the first author; nothing in the fixture carries an id of its own there.
    expect(classifications[0]!.attrs['id']).to.equal(derivedId(owner, 0));
    expect(classifications[0]!.attrs['nodeRepresentation']).to.equal('');
  });
});
