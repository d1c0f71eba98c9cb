/**
 * Every ebRIM 3.0 submission and query of the NIST XDS Toolkit testkit goes through the mapping,
 * and nothing the original carried (slots, classifications, external identifiers) is lost.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAdhocQueryRequest, parseProvideAndRegisterRequest, parseSubmitObjectsRequest, serializeAdhocQueryRequest, serializeSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import type { Submission } from '../../registry/model/metadata.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { childElement, childElements, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { xmlFiles } from '../helpers/util.js';
import { NIST_TESTKIT } from '../../fixtures/index.js';

const TESTKIT = NIST_TESTKIT;


interface Found {
  readonly file: string;
  readonly root: XmlElement;
}

const rim3: Found[] = [];
for (const top of ['tests', 'testdata-registry', 'testdata-repository']) {
  for (const file of xmlFiles(join(TESTKIT, top))) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes(NS.rim)) continue;
    rim3.push({ file: file.slice(TESTKIT.length + 1), root: parseXml(text) });
  }
}

function submissionOf(root: XmlElement): { submission: Submission; sor: XmlElement } {
  if (root.local === 'ProvideAndRegisterDocumentSetRequest') {
    return { submission: parseProvideAndRegisterRequest(root).submission, sor: childElement(root, NS.lcm, 'SubmitObjectsRequest')! };
  }
  return { submission: parseSubmitObjectsRequest(root), sor: root };
}

/**
 * What a RegistryObjectList says, per owning object: slot names and values, classifications
 * (scheme or node, nodeRepresentation, their slots) and external identifiers (scheme, value).
 * Generated ids, element order and the Names of XDS identifiers are left out.
 */
function fingerprint(sor: XmlElement): string[] {
  const list = childElement(sor, NS.rim, 'RegistryObjectList')!;
  const out: string[] = [];
  const slots = (e: XmlElement) =>
    childElements(e, NS.rim, 'Slot')
      .map((s) => ({ name: s.attrs['name'], values: childElements(childElement(s, NS.rim, 'ValueList') ?? s, NS.rim, 'Value').map(textContent) }))
      .filter((s) => s.values.length > 0)
      .map((s) => `${s.name}=${JSON.stringify(s.values)}`)
      .sort()
      .join(';');
  const classification = (owner: string, c: XmlElement) =>
    `${owner} C ${c.attrs['classificationScheme'] ?? ''} ${c.attrs['classificationNode'] ?? ''} [${c.attrs['nodeRepresentation'] ?? ''}] {${slots(c)}}`;
  const identifier = (owner: string, x: XmlElement) => `${owner} X ${x.attrs['identificationScheme']} = ${x.attrs['value']}`;
  for (const o of childElements(list, NS.rim)) {
    if (o.local === 'Classification') out.push(classification(o.attrs['classifiedObject']!, o));
    else if (o.local === 'ExternalIdentifier') out.push(identifier(o.attrs['registryObject']!, o));
    else if (o.local === 'ObjectRef') out.push(`ref ${o.attrs['id']}`);
    else {
      const id = o.attrs['id']!;
      out.push(`${id} ${o.local} {${slots(o)}}`);
      for (const c of childElements(o, NS.rim, 'Classification')) out.push(classification(id, c));
      for (const x of childElements(o, NS.rim, 'ExternalIdentifier')) out.push(identifier(id, x));
    }
  }
  return out.sort();
}

describe('ebxml against the NIST testkit (ebRIM 3.0 files)', () => {
  const submissions = rim3.filter((f) => f.root.local === 'SubmitObjectsRequest' || f.root.local === 'ProvideAndRegisterDocumentSetRequest');
  const queries = rim3.filter((f) => f.root.local === 'AdhocQueryRequest');

  it('finds the testkit files', () => {
    expect(submissions.length).to.be.greaterThan(100);
    expect(queries.length).to.be.greaterThan(400);
  });

  it('maps every submission, and re-serialising keeps every slot, classification and external identifier', () => {
    for (const { file, root } of submissions) {
      const { submission, sor } = submissionOf(root);
      const again = parseXml(serializeXml(serializeSubmitObjectsRequest(submission)));
      expect(fingerprint(again), file).to.deep.equal(fingerprint(sor));
    }
  });

  it('is a fixed point: model → XML → model gives the same model', () => {
    for (const { file, root } of submissions) {
      const { submission } = submissionOf(root);
      const again = parseSubmitObjectsRequest(parseXml(serializeXml(serializeSubmitObjectsRequest(submission))));
      expect(again, file).to.deep.equal(submission);
    }
  });

  it('reads every stored query request and writes it back unchanged', () => {
    for (const { file, root } of queries) {
      const req = parseAdhocQueryRequest(root);
      expect(parseAdhocQueryRequest(parseXml(serializeXml(serializeAdhocQueryRequest(req)))), file).to.deep.equal(req);
      const slotCount = childElements(childElement(root, NS.rim, 'AdhocQuery')!, NS.rim, 'Slot').length;
      expect(req.parameters.length, file).to.equal(slotCount);
    }
  });
});
