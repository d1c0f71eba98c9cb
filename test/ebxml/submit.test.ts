import { expect } from 'chai';
import { parseProvideAndRegisterRequest, parseSubmitObjectsRequest, serializeProvideAndRegisterRequest, serializeSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import { RegistryFailure } from '../../registry/model/errors.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { rimChildren } from '../../registry/ebxml/rim.js';
import { childElement, childElements, descendants, el, textContent, type XmlElement } from '../../registry/xml/tree.js';
import { richSubmission } from './fixtures.js';
import { nhnSample } from '../../fixtures/index.js';

function throughXml(e: XmlElement): XmlElement {
  return parseXml(serializeXml(e));
}

function metadataFailure(fn: () => unknown): { code: string; message: string; location?: string } {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(RegistryFailure);
    const first = (e as RegistryFailure).errors[0]!;
    return first.location === undefined ? { code: first.code, message: first.message } : { code: first.code, message: first.message, location: first.location };
  }
  throw new Error('expected a RegistryFailure');
}

const RIM = `xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"`;
const SS_NODE = 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd';
const SS = `<rim:RegistryPackage id="SS"><rim:Classification id="c0" classifiedObject="SS" classificationNode="${SS_NODE}"/></rim:RegistryPackage>`;
function request(objects: string): XmlElement {
  return parseXml(`<lcm:SubmitObjectsRequest ${RIM}><rim:RegistryObjectList>${objects}</rim:RegistryObjectList></lcm:SubmitObjectsRequest>`);
}
const EO = (inner: string, attrs = 'objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"') => `<rim:ExtrinsicObject id="Doc" ${attrs}>${inner}</rim:ExtrinsicObject>`;

describe('ebxml SubmitObjectsRequest', () => {
  it('model → SubmitObjectsRequest XML → model is deep-equal', () => {
    const sub = richSubmission();
    expect(parseSubmitObjectsRequest(throughXml(serializeSubmitObjectsRequest(sub)))).to.deep.equal(sub);
  });

  it('serialises deterministically, with urn:uuid ids on classifications and external identifiers that have none', () => {
    const sub = richSubmission();
    const a = serializeXml(serializeSubmitObjectsRequest(sub));
    expect(serializeXml(serializeSubmitObjectsRequest(richSubmission()))).to.equal(a);
    const tree = parseXml(a);
    const ids = [...descendants(tree, NS.rim, 'Classification'), ...descendants(tree, NS.rim, 'ExternalIdentifier')].map((e) => e.attrs['id']!);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const id of ids.filter((i) => !['cl-limited', 'ei-extra', 'cl-folder-limited', 'urn:uuid:11111111-2222-4333-8444-555555555555'].includes(i))) {
      expect(id).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    // The submission set is marked as such, and the XDS external identifiers carry their conventional names.
    expect(a).to.include(`classificationNode="${SS_NODE}"`);
    expect(a).to.include('value="XDSDocumentEntry.uniqueId"');
  });

  it('reads classifications and external identifiers that stand beside their object', () => {
    const sub = parseSubmitObjectsRequest(
      request(
        EO('') +
          `<rim:RegistryPackage id="SS"/>` +
          `<rim:Classification id="c1" classifiedObject="SS" classificationNode="${SS_NODE}"/>` +
          `<rim:Classification id="c2" classifiedObject="Doc" classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" nodeRepresentation="K"/>` +
          `<rim:ExternalIdentifier id="e1" registryObject="Doc" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="1.2.3"/>` +
          `<rim:ObjectRef id="urn:uuid:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"/>`,
      ),
    );
    expect(sub.submissionSet.entryUuid).to.equal('SS');
    expect(sub.documentEntries[0]!.classCode).to.deep.equal({ code: 'K' });
    expect(sub.documentEntries[0]!.uniqueId).to.equal('1.2.3');
    expect(sub.objectRefs).to.deep.equal(['urn:uuid:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee']);
  });

  it('keeps absent attributes absent and defaults the status to Submitted', () => {
    const sub = parseSubmitObjectsRequest(request(EO('') + SS));
    const de = sub.documentEntries[0]!;
    expect(de).to.not.have.any.keys('classCode', 'uniqueId', 'patientId', 'creationTime', 'mimeType', 'hash', 'title');
    expect(de.availabilityStatus).to.equal('Submitted');
    expect(de.extra).to.deep.equal({ slots: [], classifications: [], externalIdentifiers: [] });
  });

  it('joins a URI slot split over numbered values (XDS.a form)', () => {
    const sub = parseSubmitObjectsRequest(
      request(EO('<rim:Slot name="URI"><rim:ValueList><rim:Value>2|def</rim:Value><rim:Value>1|http://abc</rim:Value></rim:ValueList></rim:Slot>') + SS),
    );
    expect(sub.documentEntries[0]!.uri).to.equal('http://abcdef');
  });

  describe('structural problems fail with XDSRegistryMetadataError', () => {
    const classCode = (code: string) =>
      `<rim:Classification id="${code}" classifiedObject="Doc" classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" nodeRepresentation="${code}"/>`;
    const uniqueId = (v: string) =>
      `<rim:ExternalIdentifier id="${v}" registryObject="Doc" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="${v}"/>`;
    const cases: [string, string, string, string][] = [
      ['an Association without sourceObject', EO('') + SS + '<rim:Association id="a1" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" targetObject="Doc"/>', 'a1', 'sourceObject'],
      ['classCode twice', EO(classCode('A') + classCode('B')) + SS, 'Doc', 'classCode'],
      ['uniqueId twice', EO(uniqueId('1.1') + uniqueId('1.2')) + SS, 'Doc', 'uniqueId'],
      ['a single-valued slot with two values', EO('<rim:Slot name="creationTime"><rim:ValueList><rim:Value>2020</rim:Value><rim:Value>2021</rim:Value></rim:ValueList></rim:Slot>') + SS, 'Doc', 'creationTime'],
      ['the same slot twice', EO('<rim:Slot name="hash"><rim:ValueList><rim:Value>a</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="hash"><rim:ValueList><rim:Value>a</rim:Value></rim:ValueList></rim:Slot>') + SS, 'Doc', 'hash'],
      ['a RegistryPackage that is neither SubmissionSet nor Folder', EO('') + SS + '<rim:RegistryPackage id="P2"/>', 'P2', 'neither'],
      ['two SubmissionSets', SS + SS.replace(/"SS"/g, '"SS2"'), 'SS2', 'exactly one SubmissionSet'],
      ['no SubmissionSet', EO(''), '', 'exactly one SubmissionSet'],
      ['an unknown ExtrinsicObject objectType', EO('', 'objectType="urn:uuid:00000000-0000-0000-0000-000000000000"') + SS, 'Doc', 'objectType'],
      ['an unknown status', EO('', 'objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1" status="Approved"') + SS, 'Doc', 'status'],
      ['a Classification of an object not in the request', SS + `<rim:Classification id="cx" classifiedObject="nowhere" classificationNode="${SS_NODE}"/>`, 'cx', 'not in the request'],
      ['an unsupported registry object', SS + '<rim:Organization id="o1"/>', 'o1', 'Organization'],
    ];
    for (const [what, objects, location, words] of cases) {
      it(what, () => {
        const f = metadataFailure(() => parseSubmitObjectsRequest(request(objects)));
        expect(f.code).to.equal('XDSRegistryMetadataError');
        expect(f.message).to.include(words);
        if (location !== '') expect(f.location).to.equal(location);
      });
    }
  });
});

describe('ebxml rimChildren', () => {
  it('finds in one pass what childElements and childElement find per kind', () => {
    const rim = (local: string, attrs: Record<string, string> = {}) => el(NS.rim, local, attrs);
    const owner = el(NS.rim, 'ExtrinsicObject', {}, [
      'text',
      rim('Slot', { name: 's1' }),
      el('urn:other', 'Slot', { name: 'foreign' }),
      rim('Name', { n: '1' }),
      rim('Classification', { id: 'c1' }),
      rim('ExternalIdentifier', { id: 'x1' }),
      rim('Name', { n: '2' }),
      rim('Slot', { name: 's2' }),
      el('urn:other', 'Name'),
      rim('VersionInfo', { versionName: '1' }),
      rim('Description', { d: '1' }),
      rim('Classification', { id: 'c2' }),
      rim('Description', { d: '2' }),
      rim('VersionInfo', { versionName: '2' }),
    ]);
    const c = rimChildren(owner);
    expect(c.slots).to.deep.equal(childElements(owner, NS.rim, 'Slot'));
    expect(c.classifications).to.deep.equal(childElements(owner, NS.rim, 'Classification'));
    expect(c.externalIdentifiers).to.deep.equal(childElements(owner, NS.rim, 'ExternalIdentifier'));
    expect(c.name).to.equal(childElement(owner, NS.rim, 'Name'));
    expect(c.description).to.equal(childElement(owner, NS.rim, 'Description'));
    expect(c.versionInfo).to.equal(childElement(owner, NS.rim, 'VersionInfo'));
    expect(rimChildren(el(NS.rim, 'Association'))).to.deep.equal({
      slots: [],
      classifications: [],
      externalIdentifiers: [],
      name: undefined,
      description: undefined,
      versionInfo: undefined,
    });
  });
});

describe('ebxml ProvideAndRegisterDocumentSetRequest', () => {
  const pnrOf = (text: string) => descendants(parseXml(text), NS.xdsb, 'ProvideAndRegisterDocumentSetRequest')[0]!;
  const nhn = nhnSample('PnR_request.xml').toString('utf8');

  it('rejects the NHN sample as sent: its RegistryPackage lacks the SubmissionSet classification', () => {
    // The file has no classification with node a54d6aa5-…; ITI TF-3 4.2.1.3 requires one.
    const f = metadataFailure(() => parseProvideAndRegisterRequest(pnrOf(nhn)));
    expect(f).to.deep.include({ code: 'XDSRegistryMetadataError', location: 'SubmissionSet02' });
  });

  it('maps the NHN sample (with the SubmissionSet classification added) to Norwegian metadata', () => {
    const fixed = nhn.replace(
      '</RegistryPackage>',
      `<Classification id="ss" classifiedObject="SubmissionSet02" classificationNode="${SS_NODE}"/></RegistryPackage>`,
    );
    const { submission, documents } = parseProvideAndRegisterRequest(pnrOf(fixed));
    const de = submission.documentEntries[0]!;
    expect(de.classCode).to.deep.equal({ code: 'A00-1', scheme: '2.16.578.1.12.4.1.1.9602', displayName: { value: 'Epikriser og sammenfatninger' } });
    expect(de.confidentialityCodes.map((c) => c.code)).to.deep.equal(['NORN_DUP']);
    expect(de.patientId).to.equal('13116900216^^^&2.16.578.1.12.4.1.7.3.2.1&ISO');
    expect(de.sourcePatientInfo).to.deep.equal(['PID-5|Danser^Line', 'PID-7|19691113', 'PID-8|F']);
    expect(de.authors[0]!.person).to.equal('502116685^GEIRAAS^BENEDIKTE^^^^^^&urn:oid:2.16.578.1.12.4.1.4.4&ISO');
    expect(de.homeCommunityId).to.equal('2.16.578.1.12.4.5.100.1');
    expect(de.availabilityStatus).to.equal('Approved');
    expect(submission.associations[0]).to.deep.include({ sourceUuid: 'SubmissionSet02', targetUuid: 'Document02', submissionSetStatus: 'Original' });
    expect(documents.map((d) => d.id)).to.deep.equal(['Document02']);
    expect(textContent(documents[0]!.content).trim()).to.match(/^PHJpbTpBc3NvY2lhdGlvbi/);
  });

  it('round-trips documents next to the submission', () => {
    const sub = richSubmission();
    const doc = el(NS.xdsb, 'Document', { id: 'Document01' }, [el(NS.xop, 'Include', { href: 'cid:1' })]);
    const back = parseProvideAndRegisterRequest(throughXml(serializeProvideAndRegisterRequest(sub, [doc])));
    expect(back.submission).to.deep.equal(sub);
    expect(back.documents[0]!.id).to.equal('Document01');
    expect(back.documents[0]!.content.children[0]).to.deep.include({ ns: NS.xop, local: 'Include' });
  });
});
