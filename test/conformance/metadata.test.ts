import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NS } from '../../registry/xml/namespaces.js';
import { childElementsOf, descendantsByLocal, type Elem, localNameOf, parseXmlDom, serializeDom } from '../../scripts/conformance/dom.js';
import { convert21to30, loadMetadata, prepareSubmission, registryObjectList, SCHEME, substituteTokens, UniqueIdAllocator } from '../../scripts/conformance/metadata.js';
import { DEFAULT_TESTKIT_DIR } from '../../scripts/conformance/runner.js';

const TESTS = join(DEFAULT_TESTKIT_DIR, 'tests');
const read = (p: string): string => readFileSync(join(TESTS, p), 'utf8');

describe('conformance metadata: ebRIM 2.1 → 3.0', () => {
  const converted = convert21to30(parseXmlDom(read('12346/single_doc.xml')));
  const root = converted.documentElement as Elem;
  const list = registryObjectList(converted)!;

  it('produces an lcm:SubmitObjectsRequest with a rim 3.0 RegistryObjectList and no ObjectRefs', () => {
    expect(root.namespaceURI).to.equal(NS.lcm);
    expect(localNameOf(root)).to.equal('SubmitObjectsRequest');
    expect(list.namespaceURI).to.equal(NS.rim);
    expect(descendantsByLocal(root, 'ObjectRef')).to.have.length(0);
    const names = childElementsOf(list).map(localNameOf);
    expect(names).to.deep.equal(['ExtrinsicObject', 'RegistryPackage', 'Classification', 'Association']);
  });

  it('leaves no ebRIM 2.1 namespace in the serialised message', () => {
    const text = serializeDom(converted);
    expect(text).not.to.contain(NS.rim21);
    expect(text).not.to.contain(NS.rs21);
    for (const e of descendantsByLocal(root, 'Slot')) expect(e.namespaceURI).to.equal(NS.rim);
  });

  it('writes association types as URNs and adds the ids 3.0 requires', () => {
    const assoc = childElementsOf(list, 'Association')[0]!;
    expect(assoc.getAttribute('associationType')).to.equal('urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember');
    expect(assoc.getAttribute('id')).to.match(/^Association_\d+$/);
    for (const ei of descendantsByLocal(root, 'ExternalIdentifier')) {
      expect(ei.getAttribute('id')).to.not.equal('');
      expect(ei.getAttribute('objectType')).to.equal('urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier');
    }
    const docUid = descendantsByLocal(root, 'ExternalIdentifier').find((e) => e.getAttribute('identificationScheme') === SCHEME.docUniqueId)!;
    expect(docUid.getAttribute('registryObject')).to.equal('Document01');
  });

  it('puts Slots before Name and Description (3.0 content model)', () => {
    const eo = childElementsOf(list, 'ExtrinsicObject')[0]!;
    const names = childElementsOf(eo).map(localNameOf);
    const lastSlot = names.lastIndexOf('Slot');
    expect(names.indexOf('Name')).to.be.greaterThan(lastSlot);
    expect(names.indexOf('Description')).to.be.greaterThan(names.indexOf('Name'));
    const classification = childElementsOf(eo, 'Classification').find((c) => childElementsOf(c, 'Name').length > 0)!;
    expect(childElementsOf(classification).map(localNameOf)[0]).to.equal('Slot');
  });

  it('converts short association types (RPLC) in the 12346 rplc submission', () => {
    const doc = convert21to30(parseXmlDom(read('12346/rplc.xml')));
    const types = descendantsByLocal(doc.documentElement as Elem, 'Association').map((a) => a.getAttribute('associationType'));
    expect(types).to.include('urn:ihe:iti:2007:AssociationType:RPLC');
  });

  it('passes ebRIM 3.0 files through untouched by the converter', () => {
    const q = loadMetadata(read('11897/classcode_one/query.xml'), new Map([['$patient_id$', 'P^^^&1.2&ISO']]), 'query');
    expect((q.documentElement as Elem).namespaceURI).to.equal(NS.query);
    expect(serializeDom(q)).to.contain("'P^^^&amp;1.2&amp;ISO'");
  });
});

describe('conformance metadata: placeholders and assigned ids', () => {
  it('substitutes longest tokens first and escapes for XML when asked', () => {
    const tokens = new Map([['$patientid', 'short'], ['$patientid$', 'A&B']]);
    expect(substituteTokens('x $patientid$ y', tokens)).to.equal('x A&B y');
    expect(substituteTokens('x $patientid$ y', tokens, true)).to.equal('x A&amp;B y');
  });

  it('assigns uuids, uniqueIds and patient ids, and rewrites references', () => {
    const doc = loadMetadata(read('12346/single_doc.xml'), new Map(), 'single_doc');
    let n = 0;
    const ids = prepareSubmission(doc, {
      assignUuids: true, assignUids: true, patientId: 'PID^^^&1.3.6&ISO', uids: new UniqueIdAllocator('1.2.42', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))),
      newUuid: () => `urn:uuid:00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    });
    const list = registryObjectList(doc)!;
    const docUuid = ids.assignedUuids.get('Document01')!;
    const ssUuid = ids.assignedUuids.get('SubmissionSet01')!;
    expect(docUuid).to.match(/^urn:uuid:/);
    expect(childElementsOf(list, 'ExtrinsicObject')[0]!.getAttribute('id')).to.equal(docUuid);
    const assoc = childElementsOf(list, 'Association')[0]!;
    expect(assoc.getAttribute('sourceObject')).to.equal(ssUuid);
    expect(assoc.getAttribute('targetObject')).to.equal(docUuid);
    expect(ids.assignedUids.get('Document01')).to.equal('1.2.42.20240102030405006.1');
    expect(ids.assignedUids.get('SubmissionSet01')).to.equal('1.2.42.20240102030405006.2');
    const eis = descendantsByLocal(list, 'ExternalIdentifier');
    const byScheme = (s: string): string[] => eis.filter((e) => e.getAttribute('identificationScheme') === s).map((e) => e.getAttribute('value')!);
    expect(byScheme(SCHEME.docPatientId)).to.deep.equal(['PID^^^&1.3.6&ISO']);
    expect(byScheme(SCHEME.ssPatientId)).to.deep.equal(['PID^^^&1.3.6&ISO']);
    expect(byScheme(SCHEME.docUniqueId)).to.deep.equal(['1.2.42.20240102030405006.1']);
    for (const ei of eis) expect(ei.getAttribute('registryObject')).to.match(/^urn:uuid:/);
    expect(ids.assignedPatientIds.get('SubmissionSet01')).to.equal('PID^^^&1.3.6&ISO');
  });

  it('keeps uniqueIds and patient ids when NoAssignUids / NoPatientId', () => {
    const doc = loadMetadata(read('12346/single_doc/single_doc.xml'), new Map([['$patientid$', 'KEEP^^^&1.2&ISO']]), 'single_doc');
    const ids = prepareSubmission(doc, { assignUuids: false, assignUids: false, uids: new UniqueIdAllocator() });
    expect(ids.assignedUids.size).to.equal(0);
    expect(ids.assignedUuids.size).to.equal(0);
    expect(ids.assignedPatientIds.get('Document01')).to.equal('KEEP^^^&1.2&ISO');
    const uid = descendantsByLocal(doc.documentElement as Elem, 'ExternalIdentifier').find((e) => e.getAttribute('identificationScheme') === SCHEME.docUniqueId)!;
    expect(uid.getAttribute('value')).to.equal('Document01');
  });
});
