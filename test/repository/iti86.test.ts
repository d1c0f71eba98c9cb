/**
 * ITI-86 Remove Documents at the repository endpoint, over real HTTP, trust model off: register
 * with ITI-41, remove, and see ITI-43 no longer find the document while the registry keeps its
 * metadata; unknown documents and foreign repositories; the NHN sample request as sent; a removal
 * while a retrieve of the document is streaming; the audit record.
 */
import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, descendants, textContent } from '../../registry/xml/tree.js';
import { nhnSample } from '../../fixtures/index.js';
import { epikrise, errorCodes, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, envelope, postRaw, soapContentType } from '../helpers/soap.js';
import { auditRows } from '../wiring/helpers.js';
import { documents, provideInline, provideMtom, retrieve } from './client.js';
import { MAX_DOCUMENT_REQUESTS } from '../../connector/transactions/retrieve-wire.js';

/** The ids of NHN's sample request (fixtures/conformance/nhn-samples/IT_iti-86_request.xml). */
const HOME = 'urn:oid:2.16.578.1.12.4.5.100.1.1';
const REPO = '2.16.578.1.12.4.5.100.1.1.2';
const SAMPLE_DOCUMENT = '0145ca61-6ea3-44d4-95bb-3506d6c14e4f';
/** The patient of the epikrise fixture (KARI in test/helpers/ebxml.ts). */
const KARI_FNR = '13116900216';

interface Removal {
  readonly repository: string;
  readonly document?: string;
  readonly home?: string;
}

/** An rmd:RemoveDocumentsRequest, written as a Document Administrator would send it. */
function removeBody(requests: readonly Removal[]): string {
  return (
    `<rmd:RemoveDocumentsRequest xmlns:rmd="urn:ihe:iti:rmd:2017" xmlns:xds="${NS.xdsb}">` +
    requests
      .map(
        (r) =>
          '<xds:DocumentRequest>' +
          (r.home !== undefined ? `<xds:HomeCommunityId>${r.home}</xds:HomeCommunityId>` : '') +
          `<xds:RepositoryUniqueId>${r.repository}</xds:RepositoryUniqueId>` +
          (r.document !== undefined ? `<xds:DocumentUniqueId>${r.document}</xds:DocumentUniqueId>` : '') +
          '</xds:DocumentRequest>',
      )
      .join('') +
    '</rmd:RemoveDocumentsRequest>'
  );
}

/** rs:RegistryError elements as [errorCode, location]. */
function errorsOf(body: Parameters<typeof errorCodes>[0]): [string, string | undefined][] {
  return descendants(body, NS.rs, 'RegistryError').map((e) => [e.attrs['errorCode'] ?? '', e.attrs['location']]);
}

describe('ITI-86 Remove Documents (repository endpoint, trust off)', function () {
  this.timeout(60_000);
  let node: TestNode;
  let url: string;

  const remove = (requests: readonly Removal[], messageId?: string) =>
    postRaw(url, envelope({ action: ACTIONS.iti86.request, to: url, body: removeBody(requests), ...(messageId ? { messageId } : {}) }), soapContentType(ACTIONS.iti86.request));

  /** Registers one document with ITI-41; returns its uniqueId. */
  async function register(bytes: Buffer = Buffer.from(`epikrise ${uid()}`), docUid?: string): Promise<string> {
    const sub = epikrise({ forRepository: true, ...(docUid !== undefined ? { docUid } : {}) });
    const res = await provideInline(url, sub.xml, [{ id: 'Document01', bytes }]);
    expect(status(res.body), 'ITI-41').to.equal('Success');
    return sub.docUid;
  }

  async function retrievable(docUid: string): Promise<boolean> {
    const res = await retrieve(url, [{ repositoryUniqueId: REPO, documentUniqueId: docUid }]);
    return status(res.body) === 'Success';
  }

  before(async () => {
    node = await startTestNode({
      homeCommunityId: HOME,
      repository: { repositoryUniqueId: REPO, maxDocumentBytes: 40 * 1024 * 1024 },
      limits: { maxRequestBytes: 60 * 1024 * 1024 },
    });
    url = `${node.url}/xds/repository`;
  });
  after(async () => node?.close());

  it('register, remove → Success with the RemoveDocumentsResponse action; ITI-43 then answers XDSDocumentUniqueIdError; the registry keeps the metadata', async () => {
    const docUid = await register();
    expect(await retrievable(docUid)).to.equal(true);
    const messageId = `urn:uuid:${randomUUID()}`;
    const res = await remove([{ repository: REPO, document: docUid }], messageId);
    expect(res.httpStatus).to.equal(200);
    expect(res.body.ns).to.equal(NS.rs);
    expect(res.body.local).to.equal('RegistryResponse');
    expect(res.body.attrs['status']).to.equal('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success');
    expect(childElement(res.body, NS.rs, 'RegistryErrorList')).to.equal(undefined);
    const header = childElement(res.envelope, NS.soap12, 'Header')!;
    expect(textContent(childElement(header, NS.wsa, 'Action')!).trim()).to.equal('urn:ihe:iti:2017:RemoveDocumentsResponse');
    expect(textContent(childElement(header, NS.wsa, 'RelatesTo')!).trim()).to.equal(messageId);

    const after = await retrieve(url, [{ repositoryUniqueId: REPO, documentUniqueId: docUid }]);
    expect(status(after.body)).to.equal('Failure');
    expect(errorsOf(after.body)).to.deep.equal([['XDSDocumentUniqueIdError', docUid]]);
    // ITI-86 removes the document, not its metadata: that is ITI-62's at the registry.
    expect(await node.registry.store.count({ type: 'DocumentEntry', uniqueId: docUid })).to.equal(1);
  });

  it('an unknown document → Failure with XDSDocumentUniqueIdError located at its uniqueId', async () => {
    const unknown = uid();
    const res = await remove([{ repository: REPO, document: unknown }]);
    expect(status(res.body)).to.equal('Failure');
    expect(errorsOf(res.body)).to.deep.equal([['XDSDocumentUniqueIdError', unknown]]);
    const error = descendants(res.body, NS.rs, 'RegistryError')[0]!;
    expect(error.attrs['severity']).to.equal('urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error');
  });

  it('more DocumentRequests than one request may carry (ITI-86 and ITI-43 share the reader) → a Sender fault before any is looked up', async () => {
    const many = Array.from({ length: MAX_DOCUMENT_REQUESTS + 1 }, () => ({ repository: REPO, document: uid() }));
    const removal = await remove(many);
    expect(removal.body.local).to.equal('Fault');
    expect(removal.text).to.contain(`at most ${MAX_DOCUMENT_REQUESTS}`);
    const retrieval = await retrieve(url, many.map((m) => ({ repositoryUniqueId: m.repository, documentUniqueId: m.document })));
    expect(retrieval.body.local).to.equal('Fault');
    const within = await remove(many.slice(0, 3));
    expect(status(within.body)).to.equal('Failure');
    expect(errorsOf(within.body).map(([code]) => code)).to.deep.equal(['XDSDocumentUniqueIdError', 'XDSDocumentUniqueIdError', 'XDSDocumentUniqueIdError']);
  });

  it('removing a document twice: the second removal answers XDSDocumentUniqueIdError', async () => {
    const docUid = await register();
    expect(status((await remove([{ repository: REPO, document: docUid }])).body)).to.equal('Success');
    const again = await remove([{ repository: REPO, document: docUid }]);
    expect(status(again.body)).to.equal('Failure');
    expect(errorCodes(again.body)).to.deep.equal(['XDSDocumentUniqueIdError']);
  });

  it('a known and an unknown document → PartialSuccess with one error; the known one is gone', async () => {
    const known = await register();
    const unknown = uid();
    const res = await remove([
      { repository: REPO, document: known },
      { repository: REPO, document: unknown },
    ]);
    expect(res.body.attrs['status']).to.equal('urn:ihe:iti:2007:ResponseStatusType:PartialSuccess');
    expect(errorsOf(res.body)).to.deep.equal([['XDSDocumentUniqueIdError', unknown]]);
    expect(await retrievable(known)).to.equal(false);
  });

  it('two documents in one request (NIST 50001) → Success, both gone; a document named twice is removed once', async () => {
    const a = await register();
    const b = await register();
    const res = await remove([
      { repository: REPO, document: a },
      { repository: REPO, document: b },
      { repository: REPO, document: a },
    ]);
    expect(errorCodes(res.body)).to.deep.equal([]);
    expect(status(res.body)).to.equal('Success');
    expect(await retrievable(a)).to.equal(false);
    expect(await retrievable(b)).to.equal(false);
  });

  it('another RepositoryUniqueId → Failure with XDSUnknownRepositoryId; the document is still there (NIST 50002)', async () => {
    const docUid = await register();
    const res = await remove([{ repository: '1.2.1.1.1', document: docUid }]);
    expect(status(res.body)).to.equal('Failure');
    expect(errorsOf(res.body)).to.deep.equal([['XDSUnknownRepositoryId', '1.2.1.1.1']]);
    expect(await retrievable(docUid)).to.equal(true);
  });

  it('another community → XDSUnknownCommunity; this community bare or as urn:oid: → removed', async () => {
    const a = await register();
    const b = await register();
    const res = await remove([
      { home: 'urn:oid:1.2.3.4', repository: REPO, document: a },
      { home: HOME.replace('urn:oid:', ''), repository: REPO, document: b },
    ]);
    expect(status(res.body)).to.equal('PartialSuccess');
    expect(errorsOf(res.body)).to.deep.equal([['XDSUnknownCommunity', 'urn:oid:1.2.3.4']]);
    expect(await retrievable(a)).to.equal(true);
    expect(await retrievable(b)).to.equal(false);
  });

  it('a DocumentRequest without DocumentUniqueId → XDSDocumentUniqueIdError, the others are removed', async () => {
    const docUid = await register();
    const res = await remove([{ repository: REPO }, { repository: REPO, document: docUid }]);
    expect(status(res.body)).to.equal('PartialSuccess');
    expect(errorCodes(res.body)).to.deep.equal(['XDSDocumentUniqueIdError']);
    expect(await retrievable(docUid)).to.equal(false);
  });

  it('a RemoveDocumentsRequest without DocumentRequest → Failure with XDSRepositoryError', async () => {
    const res = await remove([]);
    expect(status(res.body)).to.equal('Failure');
    expect(errorCodes(res.body)).to.deep.equal(['XDSRepositoryError']);
  });

  it('another body element under the RemoveDocuments action → Sender fault', async () => {
    const res = await postRaw(
      url,
      envelope({ action: ACTIONS.iti86.request, to: url, body: `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}"/>` }),
      soapContentType(ACTIONS.iti86.request),
    );
    expect(res.body.local).to.equal('Fault');
    expect(res.text).to.contain('RemoveDocumentsRequest');
  });

  it("NHN's sample request (IT_iti-86_request.xml), as sent: removes the document with the sample's ids; sent again → XDSDocumentUniqueIdError", async () => {
    await register(Buffer.from('NHN sample document'), SAMPLE_DOCUMENT);
    const sample = nhnSample('IT_iti-86_request.xml');
    const first = await postRaw(url, sample, soapContentType(ACTIONS.iti86.request));
    expect(errorCodes(first.body)).to.deep.equal([]);
    expect(status(first.body)).to.equal('Success');
    expect(await retrievable(SAMPLE_DOCUMENT)).to.equal(false);
    const second = await postRaw(url, sample, soapContentType(ACTIONS.iti86.request));
    expect(status(second.body)).to.equal('Failure');
    expect(errorsOf(second.body)).to.deep.equal([['XDSDocumentUniqueIdError', SAMPLE_DOCUMENT]]);
  });

  it('a removal while a retrieve of the document is streaming: the retrieve completes byte-identical, later ones fail', async () => {
    const bytes = randomBytes(20 * 1024 * 1024);
    const sub = epikrise({ forRepository: true });
    expect(status((await provideMtom(url, sub.xml, [{ id: 'Document01', bytes }])).body)).to.equal('Success');

    const action = ACTIONS.iti43.request;
    const body =
      `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}"><xdsb:DocumentRequest>` +
      `<xdsb:RepositoryUniqueId>${REPO}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>${sub.docUid}</xdsb:DocumentUniqueId>` +
      `</xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': soapContentType(action) }, body: envelope({ action, to: url, body }) });
    const reader = res.body!.getReader();
    const chunks: Buffer[] = [];
    const first = await reader.read();
    chunks.push(Buffer.from(first.value!));
    // The answer has begun (its length promised): now the document goes.
    const removed = await remove([{ repository: REPO, document: sub.docUid }]);
    expect(status(removed.body)).to.equal('Success');
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(Buffer.from(r.value));
    const answer = Buffer.concat(chunks);
    expect(answer.byteLength).to.equal(Number(res.headers.get('content-length')));
    expect(answer.indexOf(bytes)).to.be.greaterThan(0);
    expect(await retrievable(sub.docUid)).to.equal(false);
  });

  it('every ITI-86 is audited before the answer: the removed document and its patient, and the attempt that removed nothing', async () => {
    const docUid = await register();
    const before = auditRows(node.dataDir).length;
    expect(status((await remove([{ repository: REPO, document: docUid }])).body)).to.equal('Success');
    const unknown = uid();
    expect(status((await remove([{ repository: REPO, document: unknown }])).body)).to.equal('Failure');
    const rows = auditRows(node.dataDir)
      .slice(before)
      .filter((r) => r.access.transaction === 'ITI-86');
    expect(rows.map((r) => [r.access.outcome, r.access.documents, r.patientId])).to.deep.equal([
      ['success', [docUid], KARI_FNR],
      ['failure', [unknown], null],
    ]);
    expect(rows[0]!.access.action).to.equal('Remove Documents');
    const resource = JSON.parse(rows[0]!.resource) as { action?: string; type?: { code?: string }; subtype?: { code?: string }[] };
    expect(resource.action).to.equal('D');
    expect(JSON.stringify(resource.subtype)).to.contain('ITI-86');
    expect(rows[0]!.resource).to.contain(KARI_FNR);
  });
});
