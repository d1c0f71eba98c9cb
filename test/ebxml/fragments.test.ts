/**
 * LeafClass answers written from remembered per-object fragments (write-objects.ts, serialize.ts)
 * are byte for byte the answers written from the element trees, on the fixtures, the NHN and NIST
 * submissions and the benchmark's generated data; fragments follow object identity; and every
 * prefix in an answer made of fragments is declared.
 */
import { DOMParser, type Element } from '@xmldom/xmldom';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildEnvelope, buildEnvelopeBytes } from '../../connector/soap/response.js';
import { maskedStub } from '../../connector/trust/policy.js';
import { adhocQueryResponse, parseAdhocQueryResponse, parseProvideAndRegisterRequest, parseSubmitObjectsRequest, registryErrorList, registryObjectElement } from '../../registry/ebxml/index.js';
import { registryObjectNode } from '../../registry/ebxml/write-objects.js';
import { STATUS_URN, error } from '../../registry/model/errors.js';
import type { DocumentEntry, RegistryObject, Submission } from '../../registry/model/metadata.js';
import type { ReturnType, StoredQueryResult } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { FragmentWriter, XmlFragment, serializeFragment, serializeXml, serializeXmlBytes } from '../../registry/xml/serialize.js';
import { childElement, childElements, descendants, el, isElement, sameElement, textContent, type XmlElement, type XmlNode } from '../../registry/xml/tree.js';
import { createWorld, planPatient } from '../../scripts/generate/patient.js';
import { richSubmission } from './fixtures.js';
import { xmlFiles } from '../helpers/util.js';
import { ACTIONS } from '../helpers/soap.js';
import { join } from 'node:path';
import { NHN_SAMPLES, NIST_TESTKIT } from '../../fixtures/index.js';

const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1';

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const objectsOf = (s: Submission): RegistryObject[] => [...s.documentEntries, s.submissionSet, ...s.folders, ...s.associations];

/** What the store will hand out: deep-frozen objects, stamped with our home like the query does. */
const asStored = (objects: readonly RegistryObject[], home?: string): RegistryObject[] =>
  objects.map((o) => deepFreeze(home === undefined ? structuredClone(o) : { ...structuredClone(o), homeCommunityId: home }));


/** Every ebRIM 3.0 submission of the NIST testkit and the NHN samples, as model objects. */
function sampleSubmissions(): { name: string; objects: RegistryObject[] }[] {
  const out: { name: string; objects: RegistryObject[] }[] = [];
  const files = [
    ...xmlFiles(join(NIST_TESTKIT, 'tests')),
    ...xmlFiles(join(NIST_TESTKIT, 'testdata-registry')),
    ...xmlFiles(NHN_SAMPLES),
  ];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes(NS.rim) || !(text.includes('SubmitObjectsRequest') || text.includes('ProvideAndRegisterDocumentSetRequest'))) continue;
    let root: XmlElement;
    try {
      root = parseXml(text);
    } catch {
      continue; // envelopes and broken samples: the mapping tests cover what parses
    }
    let submission: Submission;
    if (root.ns === NS.lcm && root.local === 'SubmitObjectsRequest') submission = parseSubmitObjectsRequest(root);
    else if (root.ns === NS.xdsb && root.local === 'ProvideAndRegisterDocumentSetRequest') submission = parseProvideAndRegisterRequest(root).submission;
    else continue;
    out.push({ name: file, objects: objectsOf(submission) });
  }
  return out;
}

/** The benchmark's data: the first generated patients (seed 1), every object of their submissions. */
function benchObjects(): RegistryObject[] {
  const world = createWorld(1);
  const out: RegistryObject[] = [];
  for (let p = 0; p < 6; p++) for (const { submission } of planPatient(world, p).submissions) out.push(...objectsOf(submission));
  return out;
}

/** The answer as written before fragments existed: every object as its element tree. */
function freshAnswer(result: Omit<StoredQueryResult, 'objectRefs'>): string {
  return serializeXml(
    el(NS.query, 'AdhocQueryResponse', { status: STATUS_URN[result.status] }, [
      registryErrorList(result.errors),
      el(NS.rim, 'RegistryObjectList', {}, result.objects.map(result.returnType === 'LeafClass' ? registryObjectElement : (o) => el(NS.rim, 'ObjectRef', { id: o.entryUuid, home: o.homeCommunityId }))),
    ]),
  );
}

const answer = (objects: readonly RegistryObject[], returnType: ReturnType = 'LeafClass'): Omit<StoredQueryResult, 'objectRefs'> => ({ status: 'Success', errors: [], returnType, objects });

function fragmentsIn(e: XmlElement): number {
  const list = childElement(e, NS.rim, 'RegistryObjectList')!;
  return list.children.filter((c) => c instanceof XmlFragment).length;
}

const bench = benchObjects();

/**
 * What every object's LeafClass element is, pinned: the SHA-256 of the text the element-tree writer
 * wrote for every object of the samples and the generated data (with and without our home) before
 * the fragment writer wrote fragments directly (2026-12-06). The writers share one description of
 * each object (write-objects.ts), so comparing them with each other would not catch a change of it.
 */
const PINNED_LEAF_CLASS_SHA256 = '6a42e020ad5328e6fd5281d763372ef8eb87c6355b25fa86980da88d38a4a385';

describe('LeafClass elements, pinned', () => {
  it('every sample and generated object writes what it wrote before, as a tree and as a fragment', () => {
    const objects = [...objectsOf(richSubmission()), ...bench, ...sampleSubmissions().flatMap((s) => s.objects)];
    const trees = createHash('sha256');
    const fragments = createHash('sha256');
    for (const o of objects) {
      for (const object of [o, { ...o, homeCommunityId: HOME }]) {
        trees.update(serializeXml(el(NS.rim, 'RegistryObjectList', {}, [registryObjectElement(object)])) + '\n');
        fragments.update(serializeXml(el(NS.rim, 'RegistryObjectList', {}, [registryObjectNode(deepFreeze(structuredClone(object)))])) + '\n');
      }
    }
    expect(trees.digest('hex')).to.equal(PINNED_LEAF_CLASS_SHA256);
    expect(fragments.digest('hex')).to.equal(PINNED_LEAF_CLASS_SHA256);
  });
});

describe('LeafClass answers from remembered fragments', () => {
  const samples = sampleSubmissions();

  it('finds the samples and the generated data', () => {
    expect(samples.length).to.be.greaterThan(100);
    expect(bench.length).to.be.greaterThan(100);
  });

  it('writes the same bytes as the element trees, first and again, as text and as bytes', () => {
    const sets: { name: string; objects: RegistryObject[] }[] = [
      { name: 'rich fixture', objects: asStored(objectsOf(richSubmission()), HOME) },
      { name: 'rich fixture, no home', objects: asStored(objectsOf(richSubmission())) },
      { name: 'bench data', objects: asStored(bench, HOME) },
      ...samples.map((s) => ({ name: s.name, objects: asStored(s.objects, HOME) })),
    ];
    for (const { name, objects } of sets) {
      for (const returnType of ['LeafClass', 'ObjectRef'] as const) {
        const result = answer(objects, returnType);
        const expected = freshAnswer(result);
        const first = adhocQueryResponse(result);
        if (returnType === 'LeafClass') expect(fragmentsIn(first), name).to.equal(objects.length);
        expect(serializeXml(first), name).to.equal(expected);
        const again = adhocQueryResponse(result);
        expect(serializeXml(again), name).to.equal(expected);
        expect(serializeXmlBytes(again).equals(Buffer.from(expected, 'utf8')), name).to.equal(true);
      }
    }
  });

  it('adds a RegistryErrorList before the fragments unchanged (PartialSuccess)', () => {
    const objects = asStored(bench.slice(0, 20), HOME);
    const result: Omit<StoredQueryResult, 'objectRefs'> = { status: 'PartialSuccess', errors: [error('XDSRegistryError', 'a & b <c>', 'loc')], returnType: 'LeafClass', objects };
    const expected = freshAnswer(result);
    expect(serializeXml(adhocQueryResponse(result))).to.equal(expected);
    expect(serializeXmlBytes(adhocQueryResponse(result)).toString('utf8')).to.equal(expected);
  });

  it('reads back to the same objects', () => {
    const objects = asStored(objectsOf(richSubmission()), HOME);
    const back = parseAdhocQueryResponse(parseXml(serializeXmlBytes(adhocQueryResponse(answer(objects)))));
    expect(back.objects).to.deep.equal(objects);
  });

  it('gives the same object the same fragment in every answer, and a changed object a new one', () => {
    const [entry] = asStored(objectsOf(richSubmission()), HOME) as [DocumentEntry];
    const fragment = registryObjectNode(entry);
    expect(fragment).to.be.instanceOf(XmlFragment);
    expect(registryObjectNode(entry)).to.equal(fragment);
    const first = serializeXmlBytes(adhocQueryResponse(answer([entry])));
    const second = serializeXmlBytes(adhocQueryResponse(answer([entry])));
    expect(first.equals(second)).to.equal(true);

    // A new revision of the record is a new object: it gets its own fragment, the old one stays.
    const changed = deepFreeze({ ...entry, title: { value: 'Ny tittel & mer' } });
    const newer = registryObjectNode(changed);
    expect(newer).to.not.equal(fragment);
    const text = serializeXml(adhocQueryResponse(answer([changed])));
    expect(text).to.include('value="Ny tittel &amp; mer"');
    expect(text).to.equal(freshAnswer(answer([changed])));
    expect(serializeXmlBytes(adhocQueryResponse(answer([entry]))).equals(first)).to.equal(true);
  });

  it('does not remember objects that are not frozen: they could still change', () => {
    const [entry] = objectsOf(richSubmission()) as [DocumentEntry];
    const open: DocumentEntry = { ...entry, homeCommunityId: HOME };
    const node = registryObjectNode(open);
    expect(serializeXml(el(NS.rim, 'RegistryObjectList', {}, [node]))).to.equal(serializeXml(el(NS.rim, 'RegistryObjectList', {}, [registryObjectElement(open)])));
    expect(registryObjectNode(open)).to.not.equal(node);
    (open as { title: unknown }).title = { value: 'endret' };
    expect(serializeXml(adhocQueryResponse(answer([open])))).to.include('value="endret"');
  });

  it('writes a masked NORS stub as the stub, though the full entry has its fragment', () => {
    const entry = asStored(objectsOf(richSubmission()), HOME)[0] as DocumentEntry;
    const full = serializeXml(adhocQueryResponse(answer([entry])));
    const stub = maskedStub(entry);
    const masked = serializeXml(adhocQueryResponse(answer([stub])));
    expect(masked).to.equal(freshAnswer(answer([stub])));
    expect(masked).to.not.equal(full);
    expect(masked).to.not.include(entry.classCode!.code!);
    expect(serializeXml(adhocQueryResponse(answer([entry])))).to.equal(full);
  });
});

/** Every element and attribute name of the text resolves to the namespace `ours` says it has (xmldom). */
function checkNamespaces(text: string, ours: XmlElement): void {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, message) => errors.push(`${level}: ${message}`) }).parseFromString(text, 'text/xml');
  expect(errors).to.deep.equal([]);
  const walk = (node: Element, mine: XmlElement): void => {
    expect(node.localName).to.equal(mine.local);
    expect(node.namespaceURI ?? '').to.equal(mine.ns);
    if (node.prefix) expect(node.lookupNamespaceURI(node.prefix)).to.equal(mine.ns);
    for (let i = 0; i < node.attributes.length; i++) {
      const a = node.attributes.item(i)!;
      if (a.name === 'xmlns' || a.prefix === 'xmlns') continue;
      if (a.prefix) expect(a.namespaceURI, a.name).to.be.a('string').and.not.equal('');
      const key = a.namespaceURI ? `{${a.namespaceURI}}${a.localName}` : a.localName!;
      expect(mine.attrs[key], a.name).to.equal(a.value);
    }
    const elements: Element[] = [];
    for (let c = node.firstChild; c !== null; c = c.nextSibling) if (c.nodeType === 1) elements.push(c as Element);
    const myElements = mine.children.filter(isElement);
    expect(elements.length).to.equal(myElements.length);
    elements.forEach((c, i) => walk(c, myElements[i]!));
  };
  walk(doc.documentElement!, ours);
}

describe('namespaces of documents with fragments', () => {
  const entry = deepFreeze({ ...objectsOf(richSubmission())[0]!, homeCommunityId: HOME });

  it('declares the fragments’ namespaces on the root: an answer reads the same with our parser and xmldom', () => {
    const objects = asStored(objectsOf(richSubmission()), HOME);
    const text = serializeXmlBytes(adhocQueryResponse(answer(objects))).toString('utf8');
    const tree = parseXml(text);
    expect(sameElement(tree, parseXml(freshAnswer(answer(objects))))).to.equal(true);
    checkNamespaces(text, tree);
    // xml:lang is written with the xml prefix, never declared.
    expect(text).to.include('xml:lang="nb-NO"');
    expect(text).to.not.include('xmlns:xml=');
  });

  it('declares rim on the root where the fragment is the only rim content, after numbered namespaces too', () => {
    const fragment = registryObjectNode(entry);
    const element = registryObjectElement(entry);
    const shapes: ((child: XmlNode) => XmlElement)[] = [
      (child) => el('urn:wrapper', 'Wrapper', { '{urn:attr}a': '1' }, [child]),
      (child) => el('urn:wrapper', 'Wrapper', {}, [el('urn:first', 'x'), child, el(NS.rs, 'after', { '{urn:later}b': '2' })]),
      (child) => el(NS.soap12, 'Body', {}, [el(NS.query, 'AdhocQueryResponse', {}, [el(NS.rim, 'RegistryObjectList', {}, [child, child])])]),
    ];
    for (const shape of shapes) {
      const text = serializeXml(shape(fragment));
      expect(text).to.equal(serializeXml(shape(element)));
      expect(serializeXmlBytes(shape(fragment)).toString('utf8')).to.equal(text);
      const rootTag = text.slice(0, text.indexOf('>'));
      expect(rootTag).to.include(`xmlns:rim="${NS.rim}"`);
      // Declared once, on the root only: no fragment redeclares anything.
      expect(text.split('xmlns:').length - 1).to.equal((rootTag.match(/xmlns:/g) ?? []).length);
      checkNamespaces(text, parseXml(text));
    }
  });

  it('the SOAP envelope as bytes is byte for byte the envelope as text', () => {
    const objects = asStored(bench.slice(0, 30), HOME);
    const msg = { action: ACTIONS.iti18.response, relatesTo: 'urn:uuid:1 & <2>', body: adhocQueryResponse(answer(objects)) };
    const text = buildEnvelope(msg);
    const bytes = buildEnvelopeBytes(msg);
    const same = (xml: string, id: string) => xml.replace(id, 'ID');
    expect(same(Buffer.concat(bytes.chunks).toString('utf8'), bytes.messageId)).to.equal(same(text.xml, text.messageId));
    checkNamespaces(text.xml, parseXml(text.xml));
  });
});

describe('XmlFragment guards', () => {
  const element = registryObjectElement(objectsOf(richSubmission())[0]!);

  it('is made only by serializeFragment and FragmentWriter', () => {
    const Ctor = XmlFragment as unknown as new (...args: unknown[]) => XmlFragment;
    expect(() => new Ctor(Symbol('serializeFragment'), element, '<injected/>', [])).to.throw(TypeError);
    expect(() => new Ctor(undefined, element, '<injected/>', [])).to.throw(TypeError);
    // The parser never makes one: a tree read from the wire holds elements and text only.
    const parsed = parseXml(serializeXml(el(NS.rim, 'RegistryObjectList', {}, [serializeFragment(element)!])));
    expect(descendants(parsed, NS.rim, 'ExtrinsicObject')).to.have.length(1);
    expect(parsed.children.every((c) => typeof c === 'string' || !(c instanceof XmlFragment))).to.equal(true);
  });

  it('is written by a FragmentWriter only as nested, escaped elements with preferred prefixes', () => {
    const w = new FragmentWriter();
    w.start(NS.rim, 'x');
    w.attr(`{${NS.xml}}lang`, 'nb "&"');
    w.start(NS.rim, 'y');
    w.text('<a> & </a>');
    w.end();
    w.start(NS.rim, 'z');
    w.end();
    w.end();
    const f = w.finish()!;
    expect(f.xml).to.equal('<rim:x xml:lang="nb &quot;&amp;&quot;"><rim:y>&lt;a&gt; &amp; &lt;/a&gt;</rim:y><rim:z/></rim:x>');
    expect(f.namespaces).to.deep.equal([NS.rim]);
    const unfinished = new FragmentWriter();
    unfinished.start(NS.rim, 'x');
    expect(() => unfinished.finish()).to.throw();
    const twoRoots = new FragmentWriter();
    twoRoots.start(NS.rim, 'x');
    twoRoots.end();
    expect(() => twoRoots.start(NS.rim, 'y')).to.throw();
    const late = new FragmentWriter();
    late.start(NS.rim, 'x');
    late.text('t');
    expect(() => late.attr('a', '1')).to.throw();
    expect(() => new FragmentWriter().end()).to.throw();
    const foreign = new FragmentWriter();
    foreign.start(NS.rim, 'x');
    foreign.start('urn:unknown', 'y');
    foreign.end();
    foreign.end();
    expect(foreign.finish()).to.equal(undefined);
  });

  it('is refused for namespaces without a preferred prefix (their prefix depends on the document)', () => {
    expect(serializeFragment(el('urn:unknown', 'x'))).to.equal(undefined);
    expect(serializeFragment(el(NS.rim, 'x', { '{urn:unknown}a': '1' }))).to.equal(undefined);
    expect(serializeFragment(el(NS.rim, 'x', {}, [el('urn:unknown', 'y')]))).to.equal(undefined);
    const ok = serializeFragment(el(NS.rim, 'x', { [`{${NS.xml}}lang`]: 'nb' }, [el(NS.rs, 'y')]))!;
    expect(ok.xml).to.equal('<rim:x xml:lang="nb"><rs:y/></rim:x>');
    expect(ok.namespaces).to.deep.equal([NS.rim, NS.rs]);
  });

  it('is sealed to readers of the tree', () => {
    const fragment = serializeFragment(element)!;
    expect(fragment.ns).to.equal(NS.rim);
    expect(fragment.local).to.equal('ExtrinsicObject');
    expect(() => fragment.attrs).to.throw(TypeError);
    expect(() => fragment.children).to.throw(TypeError);
    expect(() => textContent(el(NS.rim, 'RegistryObjectList', {}, [fragment]))).to.throw(TypeError);
    expect(isElement(fragment)).to.equal(false);
    const list = el(NS.rim, 'RegistryObjectList', {}, [fragment]);
    expect(childElements(list)).to.deep.equal([]);
    expect(childElement(list, NS.rim, 'ExtrinsicObject')).to.equal(undefined);
    // A search that could match inside refuses; one that cannot (xop:Include in an answer) passes it over.
    expect(() => descendants(list, NS.rim, 'Slot')).to.throw(TypeError);
    expect(descendants(list, NS.xop, 'Include')).to.deep.equal([]);
    expect(() => serializeXml(fragment)).to.throw(TypeError);
    expect(Object.isFrozen(fragment)).to.equal(true);
  });

  it('compares by its text in sameElement', () => {
    const a = el(NS.rim, 'RegistryObjectList', {}, [serializeFragment(element)!]);
    const b = el(NS.rim, 'RegistryObjectList', {}, [serializeFragment(element)!]);
    expect(sameElement(a, b)).to.equal(true);
    expect(sameElement(a, el(NS.rim, 'RegistryObjectList', {}, [element]))).to.equal(false);
  });
});
