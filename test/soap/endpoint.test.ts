import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { MultipartParser } from '@remix-run/multipart-parser';
import { NS } from '../../registry/xml/namespaces.js';
import { childElement, childElements, textContent } from '../../registry/xml/tree.js';
import { parseMediaType } from '../../connector/soap/media-type.js';
import { normaliseContentId } from '../../connector/soap/mime.js';
import {
  ACTION,
  ECHO_MESSAGE_ID,
  ECHO_TO,
  echoRequest,
  faultCodes,
  faultReason,
  headerText,
  parseSoap,
  resolveQName,
  SECRET,
  send,
  startServer,
  T,
  type Server,
} from './harness.js';
import { soapContentType } from '../helpers/soap.js';
import { nhnSample } from '../../fixtures/index.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const ADDRESSING_FAULT = 'http://www.w3.org/2005/08/addressing/fault';
const SOAP_FAULT = 'http://www.w3.org/2005/08/addressing/soap/fault';
const wsa = (local: string): string => `{${NS.wsa}}${local}`;
const env = (local: string): string => `{${NS.soap12}}${local}`;

/** Builds a multipart/related body from parts (headers as given) with CRLF line ends. */
function multipart(boundary: string, parts: { headers: string[]; body: Buffer | string }[], close = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`));
    chunks.push(typeof p.body === 'string' ? Buffer.from(p.body) : p.body);
    chunks.push(Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const PDF = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x0d, 0x0a, 0x2d, 0x2d, 0x41]); // binary, CR LF and dashes inside
const docBody = (href: string): string =>
  `<t:Provide xmlns:t="${T}"><t:Document id="d1"><xop:Include xmlns:xop="${NS.xop}" href="${href}"/></t:Document></t:Provide>`;

describe('SOAP endpoint (real HTTP)', () => {
  let server: Server;
  before(async () => {
    server = await startServer({ understoodHeaders: [{ ns: NS.wsse, local: 'Security' }] });
  });
  after(async () => {
    await server.close();
  });

  describe('inline SOAP 1.2', () => {
    it('echoes the body with WS-Addressing reply headers and the SOAP 1.2 content type', async () => {
      const res = await send(server.url, echoRequest({ action: ACTION.echo }), { contentType: soapContentType(ACTION.echo) });
      expect(res.status).to.equal(200);
      const ct = parseMediaType(res.headers['content-type']);
      expect(ct.type).to.equal('application/soap+xml');
      expect(ct.params.charset).to.equal('UTF-8');
      expect(ct.params.action).to.equal(`${ACTION.echo}Response`);
      const answer = parseSoap(res.body);
      expect(headerText(answer, NS.wsa, 'Action')).to.equal(`${ACTION.echo}Response`);
      expect(headerText(answer, NS.wsa, 'RelatesTo')).to.equal(ECHO_MESSAGE_ID);
      expect(headerText(answer, NS.wsa, 'MessageID')).to.match(/^urn:uuid:[0-9a-f-]{36}$/);
      expect(answer.body.local).to.equal('Echo');
      expect(answer.body.attrs.action).to.equal(ACTION.echo);
      expect(answer.body.attrs.messageId).to.equal(ECHO_MESSAGE_ID);
      expect(answer.body.attrs.to).to.equal(ECHO_TO);
      const echoed = childElement(childElement(answer.body, T, 'Body')!, T, 'Ping')!;
      expect(textContent(echoed)).to.equal('hello');
    });

    it('accepts a chunked body', async () => {
      const res = await send(server.url, echoRequest({ action: ACTION.echo }), { contentType: soapContentType(), chunkSize: 97 });
      expect(res.status).to.equal(200);
      expect(parseSoap(res.body).body.local).to.equal('Echo');
    });

    it('takes the action from the Content-Type when wsa:Action is absent', async () => {
      const res = await send(server.url, echoRequest({}), { contentType: soapContentType(ACTION.echo) });
      expect(res.status).to.equal(200);
      expect(parseSoap(res.body).body.attrs.action).to.equal(ACTION.echo);
    });

    it('ignores unknown header blocks without mustUnderstand, and mandatory ones aimed at another role', async () => {
      const headers =
        `<x:Trace xmlns:x="urn:other">abc</x:Trace>` +
        `<x:Routing xmlns:x="urn:other" soap:mustUnderstand="true" soap:role="http://www.w3.org/2003/05/soap-envelope/role/none"/>` +
        `<x:Hop xmlns:x="urn:other" soap:mustUnderstand="1" soap:role="urn:some-intermediary"/>` +
        `<x:Optional xmlns:x="urn:other" soap:mustUnderstand="false"/>`;
      const res = await send(server.url, echoRequest({ action: ACTION.echo, headers }), { contentType: soapContentType() });
      expect(res.status).to.equal(200);
    });

    it('refuses a DOCTYPE with a Sender fault', async () => {
      const xml = echoRequest({ action: ACTION.echo }).replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE soap:Envelope [<!ENTITY x "boom">]>',
      );
      const res = await send(server.url, xml, { contentType: soapContentType() });
      expect(res.status).to.equal(400);
      const answer = parseSoap(res.body);
      expect(faultCodes(answer)).to.deep.equal([env('Sender')]);
      expect(faultReason(answer)).to.match(/DOCTYPE/);
    });

    it('answers malformed XML and a non-envelope with Sender faults', async () => {
      const bad = await send(server.url, '<soap:Envelope xmlns:soap="x"><oops>', { contentType: soapContentType() });
      expect(bad.status).to.equal(400);
      expect(faultCodes(parseSoap(bad.body))).to.deep.equal([env('Sender')]);
      const notSoap = await send(server.url, `<t:Ping xmlns:t="${T}"/>`, { contentType: soapContentType(ACTION.echo) });
      expect(notSoap.status).to.equal(400);
      expect(faultReason(parseSoap(notSoap.body))).to.match(/not a SOAP envelope/);
    });

    it('refuses an unsupported media type before reading the body', async () => {
      const res = await send(server.url, 'a=b', { contentType: 'application/x-www-form-urlencoded' });
      expect(res.status).to.equal(415);
      expect(faultCodes(parseSoap(res.body))).to.deep.equal([env('Sender')]);
    });
  });

  describe('SOAP faults', () => {
    it('answers a SOAP 1.1 envelope with a SOAP 1.1 VersionMismatch fault carrying env:Upgrade', async () => {
      const xml = echoRequest({ action: ACTION.echo, soapNs: NS.soap11 });
      const res = await send(server.url, xml, { contentType: 'text/xml; charset=UTF-8', headers: { SOAPAction: `"${ACTION.echo}"` } });
      expect(res.status).to.equal(500);
      expect(res.headers['content-type']).to.match(/^text\/xml/);
      const root = (await import('../../registry/xml/parse.js')).parseXml(res.body);
      expect(root.ns).to.equal(NS.soap11);
      const fault = childElement(childElement(root, NS.soap11, 'Body')!, NS.soap11, 'Fault')!;
      const code = childElement(fault, '', 'faultcode')!;
      expect(resolveQName(textContent(code), code)).to.equal(`{${NS.soap11}}VersionMismatch`);
      const upgrade = childElement(childElement(root, NS.soap11, 'Header')!, NS.soap12, 'Upgrade')!;
      const supported = childElement(upgrade, NS.soap12, 'SupportedEnvelope')!;
      expect(resolveQName(supported.attrs.qname!, supported)).to.equal(env('Envelope'));
    });

    it('answers an unknown action with wsa:ActionNotSupported, the addressing fault action and RelatesTo', async () => {
      const res = await send(server.url, echoRequest({ action: 'urn:nope' }), { contentType: soapContentType() });
      expect(res.status).to.equal(400);
      const answer = parseSoap(res.body);
      expect(faultCodes(answer)).to.deep.equal([env('Sender'), wsa('ActionNotSupported')]);
      expect(headerText(answer, NS.wsa, 'Action')).to.equal(ADDRESSING_FAULT);
      expect(headerText(answer, NS.wsa, 'RelatesTo')).to.equal(ECHO_MESSAGE_ID);
      expect(parseMediaType(res.headers['content-type']).params.action).to.equal(ADDRESSING_FAULT);
      const detail = childElement(answer.body, NS.soap12, 'Detail')!;
      const problem = childElement(detail, NS.wsa, 'ProblemAction')!;
      expect(textContent(childElement(problem, NS.wsa, 'Action')!)).to.equal('urn:nope');
      const reason = childElement(childElement(answer.body, NS.soap12, 'Reason')!, NS.soap12, 'Text')!;
      expect(reason.attrs[`{${NS.xml}}lang`]).to.equal('en');
    });

    it('answers a missing wsa:Action with wsa:MessageAddressingHeaderRequired', async () => {
      const res = await send(server.url, echoRequest({}), { contentType: soapContentType() });
      expect(res.status).to.equal(400);
      const answer = parseSoap(res.body);
      expect(faultCodes(answer)).to.deep.equal([env('Sender'), wsa('MessageAddressingHeaderRequired')]);
      const problem = childElement(childElement(answer.body, NS.soap12, 'Detail')!, NS.wsa, 'ProblemHeaderQName')!;
      expect(resolveQName(textContent(problem), problem)).to.equal(wsa('Action'));
    });

    it('does not take a foreign-namespace Action element for wsa:Action', async () => {
      const headers = `<a:Action xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">${ACTION.echo}</a:Action>`;
      const res = await send(server.url, echoRequest({ headers }), { contentType: soapContentType() });
      expect(res.status).to.equal(400);
      expect(faultCodes(parseSoap(res.body))).to.deep.equal([env('Sender'), wsa('MessageAddressingHeaderRequired')]);
    });

    it('refuses a Content-Type action that differs from wsa:Action (wsa:ActionMismatch)', async () => {
      const res = await send(server.url, echoRequest({ action: ACTION.echo }), { contentType: soapContentType(ACTION.mtom) });
      expect(res.status).to.equal(400);
      expect(faultCodes(parseSoap(res.body))).to.deep.equal([
        env('Sender'),
        wsa('InvalidAddressingHeader'),
        wsa('ActionMismatch'),
      ]);
    });

    it('refuses two wsa:Action headers (wsa:InvalidCardinality)', async () => {
      const headers = `<wsa:Action>${ACTION.echo}</wsa:Action>`;
      const res = await send(server.url, echoRequest({ action: ACTION.echo, headers }), { contentType: soapContentType() });
      expect(faultCodes(parseSoap(res.body))).to.deep.equal([
        env('Sender'),
        wsa('InvalidAddressingHeader'),
        wsa('InvalidCardinality'),
      ]);
    });

    it('refuses a non-anonymous ReplyTo with wsa:OnlyAnonymousAddressSupported', async () => {
      const xml = echoRequest({ action: ACTION.echo, replyTo: 'http://client.example/callback' });
      const res = await send(server.url, xml, { contentType: soapContentType() });
      expect(res.status).to.equal(400);
      const answer = parseSoap(res.body);
      expect(faultCodes(answer)).to.deep.equal([
        env('Sender'),
        wsa('InvalidAddressingHeader'),
        wsa('OnlyAnonymousAddressSupported'),
      ]);
      expect(headerText(answer, NS.wsa, 'RelatesTo')).to.equal(ECHO_MESSAGE_ID);
    });

    it('answers a mandatory header it does not understand with env:MustUnderstand and env:NotUnderstood', async () => {
      const headers = `<x:Transaction xmlns:x="urn:other:tx" soap:mustUnderstand="1">5</x:Transaction>`;
      const res = await send(server.url, echoRequest({ action: ACTION.echo, headers }), { contentType: soapContentType() });
      expect(res.status).to.equal(500);
      const answer = parseSoap(res.body);
      expect(faultCodes(answer)).to.deep.equal([env('MustUnderstand')]);
      expect(headerText(answer, NS.wsa, 'Action')).to.equal(SOAP_FAULT);
      const nu = childElement(answer.header!, NS.soap12, 'NotUnderstood')!;
      expect(resolveQName(nu.attrs.qname!, nu)).to.equal('{urn:other:tx}Transaction');
    });

    it('answers a handler exception with a generic Receiver fault and logs the stack', async () => {
      const res = await send(server.url, echoRequest({ action: ACTION.throws }), { contentType: soapContentType() });
      expect(res.status).to.equal(500);
      const text = res.body.toString('utf8');
      expect(text).not.to.contain(SECRET);
      expect(text).not.to.match(/\bat \S+ \(/); // no stack frames
      const answer = parseSoap(res.body);
      expect(faultCodes(answer)).to.deep.equal([env('Receiver')]);
      expect(headerText(answer, NS.wsa, 'RelatesTo')).to.equal(ECHO_MESSAGE_ID);
      const logged = server.logLines.find((l) => typeof l.stack === 'string' && (l.stack as string).includes(SECRET));
      expect(logged, 'the stack is logged').to.not.equal(undefined);
      expect(logged!.messageId).to.equal(ECHO_MESSAGE_ID);
      expect(logged!.action).to.equal(ACTION.throws);
    });

    it('turns a reply referencing an attachment it does not carry into a Receiver fault', async () => {
      const res = await send(server.url, echoRequest({ action: ACTION.badReply }), { contentType: soapContentType() });
      expect(res.status).to.equal(500);
      expect(faultCodes(parseSoap(res.body))).to.deep.equal([env('Receiver')]);
    });

    it('sends a SoapFault thrown by a handler as it is (wsse subcode)', async () => {
      const res = await send(server.url, echoRequest({ action: ACTION.fault }), { contentType: soapContentType() });
      expect(res.status).to.equal(400);
      const answer = parseSoap(res.body);
      expect(faultCodes(answer)).to.deep.equal([env('Sender'), `{${NS.wsse}}FailedAuthentication`]);
      expect(faultReason(answer)).to.equal('no token');
    });
  });

  describe('body size limits', () => {
    it('refuses an oversize Content-Length with 413 before the body is sent', async () => {
      // Only the headers and a few bytes are sent: the answer must come without the rest.
      const res = await send(server.url, '<x/>', {
        contentType: soapContentType(ACTION.echo),
        headers: { 'content-length': String(10 * 1024 * 1024) },
        leaveOpen: true,
        timeoutMs: 3000,
      });
      expect(res.status).to.equal(413);
      expect(faultCodes(parseSoap(res.body))).to.deep.equal([env('Sender')]);
    });

    it('gives up on a body that stops arriving (408), without hanging', async () => {
      const slow = await startServer({ bodyIdleTimeoutMs: 200 });
      try {
        const started = Date.now();
        const res = await send(slow.url, '<soap:Envelope', {
          contentType: soapContentType(ACTION.echo),
          headers: { 'content-length': '5000' },
          leaveOpen: true,
          timeoutMs: 3000,
        });
        expect(res.status).to.equal(408);
        expect(Date.now() - started).to.be.lessThan(2000);
        expect(faultCodes(parseSoap(res.body))).to.deep.equal([env('Sender')]);
      } finally {
        await slow.close();
      }
    });

    it('cuts off a chunked body that passes the limit', async () => {
      const big = echoRequest({ action: ACTION.echo, body: `<t:Ping xmlns:t="${T}">${'x'.repeat(200 * 1024)}</t:Ping>` });
      const res = await send(server.url, big, { contentType: soapContentType(), chunkSize: 16 * 1024, timeoutMs: 3000 });
      expect(res.status).to.equal(413);
      expect(faultCodes(parseSoap(res.body))).to.deep.equal([env('Sender')]);
    });
  });

  describe('MTOM requests', () => {
    const root = (cid: string, type: string): { headers: string[]; body: string } => ({
      headers: [`Content-Type: ${type}`, 'Content-Transfer-Encoding: binary', `Content-ID: ${cid}`],
      body: echoRequest({ action: ACTION.echo, body: docBody('cid:doc1%40example.org') }),
    });

    it('resolves a percent-encoded cid against a bracketed Content-ID (CXF style)', async () => {
      const body = multipart('uuid:abc-123', [
        root('<root.message@cxf.apache.org>', 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'),
        { headers: ['Content-Type: application/pdf', 'Content-Transfer-Encoding: binary', 'Content-ID: <doc1@example.org>'], body: PDF },
      ]);
      const ct =
        'multipart/related; type="application/xop+xml"; boundary="uuid:abc-123"; start="<root.message@cxf.apache.org>"; start-info="application/soap+xml"';
      const res = await send(server.url, body, { contentType: ct });
      expect(res.status, res.body.toString()).to.equal(200);
      const echo = parseSoap(res.body).body;
      const att = childElements(echo, T, 'Attachment');
      expect(att).to.have.length(1);
      expect(att[0]!.attrs).to.include({ id: 'doc1@example.org', type: 'application/pdf', size: String(PDF.length), sha256: sha(PDF) });
      expect(childElement(echo, T, 'Resolved')!.attrs.sha256).to.equal(sha(PDF));
    });

    it('resolves a plain cid against a Content-ID without brackets, with no start parameter and an unquoted boundary', async () => {
      const parts = [
        {
          headers: ['Content-Type: application/xop+xml; type="application/soap+xml"', 'Content-ID: rootpart'],
          body: echoRequest({ action: ACTION.echo, body: docBody('cid:doc1@example.org') }),
        },
        { headers: ['Content-Type: application/pdf', 'Content-ID: doc1%40example.org'], body: PDF },
      ];
      const body = Buffer.concat([Buffer.from('\r\npreamble text\r\n'), multipart('MIMEBoundary_42', parts)]);
      const res = await send(server.url, body, { contentType: 'multipart/related; boundary=MIMEBoundary_42; type="application/xop+xml"' });
      expect(res.status, res.body.toString()).to.equal(200);
      expect(childElement(parseSoap(res.body).body, T, 'Resolved')!.attrs.sha256).to.equal(sha(PDF));
    });

    it('accepts a plain application/soap+xml root with the action only in the outer Content-Type', async () => {
      const parts = [
        {
          headers: ['Content-Type: application/soap+xml; charset=UTF-8', 'Content-ID: <r@x>'],
          body: echoRequest({ body: docBody('cid:d@x') }),
        },
        { headers: ['Content-Type: text/plain', 'Content-ID: <d@x>', 'Content-Transfer-Encoding: base64'], body: Buffer.from('hello').toString('base64') },
      ];
      const ct = `multipart/related; boundary="b1"; type="application/soap+xml"; start="<r@x>"; action="${ACTION.echo}"`;
      const res = await send(server.url, multipart('b1', parts), { contentType: ct });
      expect(res.status, res.body.toString()).to.equal(200);
      const echo = parseSoap(res.body).body;
      expect(echo.attrs.action).to.equal(ACTION.echo);
      expect(childElement(echo, T, 'Resolved')!.attrs.sha256).to.equal(sha('hello'));
    });

    it('takes the action from the root part Content-Type', async () => {
      const parts = [
        {
          headers: [`Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"; action="${ACTION.echo}"`, 'Content-ID: <r@x>'],
          body: echoRequest({}),
        },
      ];
      const res = await send(server.url, multipart('b2', parts), { contentType: 'multipart/related; boundary=b2; start="<r@x>"' });
      expect(res.status, res.body.toString()).to.equal(200);
      expect(parseSoap(res.body).body.attrs.action).to.equal(ACTION.echo);
    });

    it('answers a truncated multipart (no closing boundary) with a Sender fault, promptly', async () => {
      const body = multipart('b3', [root('<r@x>', 'application/xop+xml; type="application/soap+xml"')], false);
      const truncated = body.subarray(0, body.length - 40);
      const res = await send(server.url, truncated, { contentType: 'multipart/related; boundary=b3; start="<r@x>"', timeoutMs: 2000 });
      expect(res.status).to.equal(400);
      const answer = parseSoap(res.body);
      expect(faultCodes(answer)).to.deep.equal([env('Sender')]);
      expect(faultReason(answer)).to.match(/truncated/);
    });

    it('answers a missing root part and a dangling xop:Include with Sender faults', async () => {
      const parts = [{ headers: ['Content-Type: application/xop+xml', 'Content-ID: <other@x>'], body: echoRequest({ action: ACTION.echo }) }];
      const missing = await send(server.url, multipart('b4', parts), { contentType: 'multipart/related; boundary=b4; start="<r@x>"' });
      expect(missing.status).to.equal(400);
      expect(faultReason(parseSoap(missing.body))).to.match(/root part/);

      const dangling = [{ headers: ['Content-Type: application/xop+xml', 'Content-ID: <r@x>'], body: echoRequest({ action: ACTION.echo, body: docBody('cid:absent@x') }) }];
      const res = await send(server.url, multipart('b5', dangling), { contentType: 'multipart/related; boundary=b5; start="<r@x>"' });
      expect(res.status).to.equal(400);
      expect(faultReason(parseSoap(res.body))).to.match(/absent@x/);
    });

    it('refuses a multipart body whose boundary never appears', async () => {
      const res = await send(server.url, 'just text', { contentType: 'multipart/related; boundary=zzz' });
      expect(res.status).to.equal(400);
      expect(faultCodes(parseSoap(res.body))).to.deep.equal([env('Sender')]);
    });
  });

  describe('MTOM responses', () => {
    /** Splits an MTOM response with the library directly (independent of the endpoint's own parser). */
    function readMtom(res: { headers: Record<string, unknown>; body: Buffer }): { root: Buffer; rootType: string; parts: Map<string, Buffer> } {
      const ct = parseMediaType(res.headers['content-type'] as string);
      expect(ct.type).to.equal('multipart/related');
      expect(ct.params.type).to.equal('application/xop+xml');
      expect(ct.params['start-info']).to.equal('application/soap+xml');
      const parser = new MultipartParser(ct.params.boundary!, { maxFileSize: 1e9, maxTotalSize: 1e9 });
      const byId = new Map<string, { type: string; data: Buffer }>();
      for (const p of parser.write(res.body)) {
        byId.set(p.headers['content-id']!.replace(/^<|>$/g, ''), { type: p.headers['content-type']!, data: Buffer.from(p.bytes) });
      }
      parser.finish();
      const startId = ct.params.start!.replace(/^<|>$/g, '');
      const root = byId.get(startId)!;
      byId.delete(startId);
      return { root: root.data, rootType: root.type, parts: new Map([...byId].map(([k, v]) => [k, v.data])) };
    }

    it('sends attachments as MTOM parts referenced by xop:Include', async () => {
      const body = `<t:Get xmlns:t="${T}"><t:Doc>first document</t:Doc><t:Doc>second æøå</t:Doc></t:Get>`;
      const res = await send(server.url, echoRequest({ action: ACTION.mtom, body }), { contentType: soapContentType() });
      expect(res.status).to.equal(200);
      const mtom = readMtom(res);
      const rootType = parseMediaType(mtom.rootType);
      expect(rootType.type).to.equal('application/xop+xml');
      expect(rootType.params.type).to.equal('application/soap+xml');
      expect(rootType.params.action).to.equal(`${ACTION.mtom}Response`);
      const answer = parseSoap(mtom.root);
      expect(headerText(answer, NS.wsa, 'RelatesTo')).to.equal(ECHO_MESSAGE_ID);
      const docs = childElements(answer.body, T, 'Document');
      expect(docs).to.have.length(2);
      const contents = docs.map((d) => {
        const href = childElement(d, NS.xop, 'Include')!.attrs.href!;
        return mtom.parts.get(normaliseContentId(href))!.toString('utf8');
      });
      expect(contents).to.deep.equal(['first document', 'second æøå']);
    });

    it('answers MTOM without attachments when the handler asks for it', async () => {
      const res = await send(server.url, echoRequest({ action: ACTION.mtomEmpty }), { contentType: soapContentType() });
      expect(res.status).to.equal(200);
      const mtom = readMtom(res);
      expect(mtom.parts.size).to.equal(0);
      expect(parseSoap(mtom.root).body.local).to.equal('Nothing');
    });
  });

  describe('Norwegian sample traffic', () => {
    const sample = nhnSample('iti38-iti40-request-hn.xml');

    it('accepts the NHN ITI-38 request with its wsse:Security header and reads its addressing headers', async () => {
      const res = await send(server.url, sample, { contentType: soapContentType(ACTION.xcq) });
      expect(res.status, res.body.toString()).to.equal(200);
      const echo = parseSoap(res.body).body;
      expect(echo.attrs.action).to.equal(ACTION.xcq);
      expect(echo.attrs.messageId).to.equal('urn:uuid:c6fda90e-a5ec-4f8d-aa1b-14802f4bf68d');
      expect(echo.attrs.to).to.equal('https://ttr1xds-reg01.test.drift.nhn.no/xca/xca-iti18');
      const headers = childElements(echo, T, 'Header').map((h) => `{${h.attrs.ns}}${h.attrs.local}`);
      expect(headers).to.include(`{${NS.wsse}}Security`);
      const body = childElements(childElement(echo, T, 'Body')!)[0]!;
      expect(body.ns).to.equal(NS.query);
      expect(body.local).to.equal('AdhocQueryRequest');
    });

    it('faults a mandatory wsse:Security on an endpoint not configured for it, and accepts it on one that is', async () => {
      const mandatory = sample.toString('utf8').replace('<wsse:Security ', '<wsse:Security s:mustUnderstand="1" ');
      const plain = await startServer();
      try {
        const refused = await send(plain.url, mandatory, { contentType: soapContentType() });
        expect(refused.status).to.equal(500);
        const answer = parseSoap(refused.body);
        expect(faultCodes(answer)).to.deep.equal([env('MustUnderstand')]);
        expect(headerText(answer, NS.wsa, 'RelatesTo')).to.equal('urn:uuid:c6fda90e-a5ec-4f8d-aa1b-14802f4bf68d');
      } finally {
        await plain.close();
      }
      const accepted = await send(server.url, mandatory, { contentType: soapContentType() });
      expect(accepted.status).to.equal(200);
    });
  });
});
