import { expect } from 'chai';
import { XMLSerializer } from '@xmldom/xmldom';
import { checkAssertions, checkStatus, ContentsValidator, MetadataView, registryErrors, responseStatus } from '../../scripts/conformance/check.js';
import { type Elem, parseXmlDom } from '../../scripts/conformance/dom.js';

const RIM = 'urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0';
const APPROVED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved';
const DEPRECATED = 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated';
const HAS_MEMBER = 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember';
const SS_NODE = 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd';
const FOL_NODE = 'urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2';

function response(objects: string, status = 'Success'): Elem {
  return parseXmlDom(
    `<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="${RIM}" ` +
      `status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:${status}"><rim:RegistryObjectList>${objects}</rim:RegistryObjectList></query:AdhocQueryResponse>`,
  ).documentElement as Elem;
}
const doc = (id: string, status = APPROVED): string => `<rim:ExtrinsicObject id="${id}" status="${status}" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"/>`;
const ss = (id: string, status = APPROVED): string =>
  `<rim:RegistryPackage id="${id}" status="${status}"><rim:Classification id="c${id}" classifiedObject="${id}" classificationNode="${SS_NODE}"/></rim:RegistryPackage>`;
const fol = (id: string): string =>
  `<rim:RegistryPackage id="${id}" status="${APPROVED}"><rim:Classification id="c${id}" classifiedObject="${id}" classificationNode="${FOL_NODE}"/></rim:RegistryPackage>`;
const assoc = (id: string, src: string, tgt: string, type = HAS_MEMBER): string =>
  `<rim:Association id="${id}" sourceObject="${src}" targetObject="${tgt}" associationType="${type}"/>`;
const validate = (objects: string, contents: string): string[] =>
  new ContentsValidator(new MetadataView(response(objects))).run(parseXmlDom(`<ExpectedContents>${contents}</ExpectedContents>`).documentElement as Elem);

describe('conformance checks: ExpectedContents validators', () => {
  it('SSwithOneDoc passes on SS + doc + HasMember and names what is missing otherwise', () => {
    expect(validate(ss('s') + doc('d') + assoc('a', 's', 'd'), '<SSwithOneDoc/>')).to.deep.equal([]);
    expect(validate(ss('s') + doc('d'), '<SSwithOneDoc/>')).to.deep.equal(['Found 0 Associations instead of 1']);
    expect(validate(ss('s', DEPRECATED) + doc('d') + assoc('a', 's', 'd'), '<SSwithOneDoc/>')[0]).to.contain("instead of 'Approved'");
    expect(validate(ss('s') + doc('d') + assoc('a', 'd', 's'), '<SSwithOneDoc/>')[0]).to.contain('HasMember association missing');
  });

  it('counts Documents, Folders, SubmissionSets, Associations and ObjectRefs', () => {
    const objs = ss('s') + fol('f') + doc('d1') + doc('d2') + assoc('a1', 's', 'd1');
    expect(validate(objs, '<Documents count="2"/><Folders count="1"/><SubmissionSets count="1"/><Associations count="1"/>')).to.deep.equal([]);
    expect(validate(objs, '<Documents count="3"/>')).to.deep.equal(['Found 2 Documents instead of 3']);
    expect(validate('<rim:ObjectRef id="x"/><rim:ObjectRef id="y"/>', '<ObjectRefs count="2"/>')).to.deep.equal([]);
    expect(validate(doc('d'), '<ObjectRefs count="0"/>')).to.deep.equal(['Found 1 Documents instead of 0']);
    expect(validate('', '<None/>')).to.deep.equal([]);
  });

  it('checks status validators DocApp, DocDep, OneDocDep, FolApp, SSApproved', () => {
    expect(validate(doc('a') + doc('b', DEPRECATED), '<OneDocDep/><OneDocApp/>')).to.deep.equal([]);
    expect(validate(doc('a') + doc('b', DEPRECATED), '<DocApp/>')[0]).to.contain("has status Deprecated instead of 'Approved'");
    expect(validate(doc('b', DEPRECATED), '<DocDep/>')).to.deep.equal([]);
    expect(validate(fol('f'), '<FolApp/>')).to.deep.equal([]);
    expect(validate(doc('d'), '<SSApproved/>')).to.deep.equal(['No Submission Set']);
  });

  it('checks folder shapes SSwithOneFol and SSwithOneDocOneFol', () => {
    expect(validate(ss('s') + fol('f') + assoc('a', 's', 'f'), '<SSwithOneFol/>')).to.deep.equal([]);
    const shape = ss('s') + fol('f') + doc('d') + assoc('a1', 's', 'd') + assoc('a2', 's', 'f') + assoc('a3', 'f', 'd') + assoc('a4', 's', 'a3');
    expect(validate(shape, '<SSwithOneDocOneFol/>')).to.deep.equal([]);
    const noFolAssoc = ss('s') + fol('f') + doc('d') + assoc('a1', 's', 'd') + assoc('a2', 's', 'f') + assoc('a3', 'f', 'd') + assoc('a4', 's', 'd');
    expect(validate(noFolAssoc, '<SSwithOneDocOneFol/>').join()).to.contain('sourceObject s and targetObject a3');
  });

  it('checks relationships (HasRPLC / HasXFRM_RPLC) and rejects unknown validators', () => {
    const rplc = doc('new') + doc('old', DEPRECATED) + assoc('r', 'new', 'old', 'urn:ihe:iti:2007:AssociationType:RPLC');
    expect(validate(rplc, '<HasRPLC/>')).to.deep.equal([]);
    expect(validate(rplc, '<HasXFRM_RPLC/>')).to.deep.equal(['XFRM_RPLC association not found.']);
    expect(validate(rplc, '<Bogus/>')).to.deep.equal(['ExpectedContents: validator Bogus is not understood']);
  });
});

describe('conformance checks: status, errors and assertions', () => {
  const failure = parseXmlDom(
    '<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure">' +
      '<rs:RegistryErrorList><rs:RegistryError errorCode="XDSUnknownPatientId" codeContext="unknown" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/></rs:RegistryErrorList></rs:RegistryResponse>',
  ).documentElement as Elem;

  it('reads status suffixes and RegistryErrors', () => {
    expect(responseStatus(failure)).to.equal('Failure');
    expect(registryErrors(failure)).to.deep.equal([{ errorCode: 'XDSUnknownPatientId', codeContext: 'unknown', severity: 'Error', location: '' }]);
  });

  it('compares expected status and error codes, SOAP faults included', () => {
    const o = { status: responseStatus(failure), errors: registryErrors(failure) };
    expect(checkStatus(['Failure'], ['XDSUnknownPatientId'], o)).to.deep.equal([]);
    expect(checkStatus(['Failure'], ['XDSPatientIdDoesNotMatch'], o)[0]).to.contain('expected error code XDSPatientIdDoesNotMatch');
    expect(checkStatus(['Success'], [], o)[0]).to.match(/expected Success, got Failure with errors XDSUnknownPatientId/);
    const fault = { fault: { code: 'soap:Sender', reason: 'bad assertion' }, errors: [] };
    expect(checkStatus(['Fault'], [], fault)).to.deep.equal([]);
    expect(checkStatus(['Success'], [], fault)[0]).to.contain('SOAP Fault (soap:Sender: bad assertion)');
  });

  it('evaluates XPath assertions over a step log', () => {
    const log = parseXmlDom(`<TestResults><TestStep id="q"><StoredQueryTransaction step="q"><Result>${
      new XMLSerializer().serializeToString(response(doc('d')) as never)}</Result></StoredQueryTransaction></TestStep></TestResults>`);
    expect(checkAssertions([{ id: 'ok', xpath: `//*[local-name()='ExtrinsicObject']/@status = '${APPROVED}'` }], log)).to.deep.equal([]);
    expect(checkAssertions([{ id: 'count', xpath: "count(//StoredQueryTransaction[@step='q']/Result//*[local-name()='ExtrinsicObject']) = 2" }], log)[0])
      .to.contain('assertion count is false');
  });
});

