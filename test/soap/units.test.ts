import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { createLogger, requestLogger } from '../../connector/log.js';
import { ACTIONS } from '../../connector/soap/actions.js';
import { faultBodyXml, faultHeaderXml, SoapFault, WSSE_FAULT } from '../../connector/soap/fault.js';
import { QNameSet, readEnvelope } from '../../connector/soap/envelope.js';
import { parseMediaType } from '../../connector/soap/media-type.js';
import { normaliseContentId } from '../../connector/soap/mime.js';
import { cidUrl, newContentId, xopInclude, xopReferences } from '../../connector/soap/xop.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { serializeFragment } from '../../registry/xml/serialize.js';
import { childElement, el, textContent } from '../../registry/xml/tree.js';
import { resolveQName } from './harness.js';
import { answerEnvelope, envelope } from '../helpers/soap.js';

describe('SOAP transport units', () => {
  describe('parseMediaType', () => {
    it('reads quoted and unquoted parameters, case-insensitive names, semicolons inside quotes', () => {
      const mt = parseMediaType(
        'Multipart/Related; BOUNDARY=MIMEBoundary_1; type="application/xop+xml"; start="<0.urn:uuid:1@apache.org>"; ' +
          `start-info="application/soap+xml; action=\\"urn:x\\""; action = "${ACTIONS.iti43.request}"`,
      );
      expect(mt.type).to.equal('multipart/related');
      expect(mt.params).to.deep.equal({
        boundary: 'MIMEBoundary_1',
        type: 'application/xop+xml',
        start: '<0.urn:uuid:1@apache.org>',
        'start-info': 'application/soap+xml; action="urn:x"',
        action: ACTIONS.iti43.request,
      });
      expect(parseMediaType(mt.params['start-info']).params.action).to.equal('urn:x');
    });

    it('reads quoted values with and without escapes, empty and unterminated ones', () => {
      expect(parseMediaType('a/b; x="plain value"; y="e\\"sc\\\\aped"; z=""; w="late" \\ ; v="tail').params).to.deep.equal({
        x: 'plain value',
        y: 'e"sc\\aped',
        z: '',
        w: 'late',
        v: 'tail',
      });
      expect(parseMediaType('a/b; v="unterminated \\"x').params).to.deep.equal({ v: 'unterminated "x' });
      expect(parseMediaType('a/b; v="back\\').params).to.deep.equal({ v: 'back\\' });
    });

    it('copes with a missing header and valueless parameters', () => {
      expect(parseMediaType(undefined)).to.deep.equal({ type: '', params: {} });
      expect(parseMediaType('text/xml; junk; charset=utf-8').params).to.deep.equal({ charset: 'utf-8' });
    });
  });

  describe('normaliseContentId', () => {
    it('gives one spelling for headers, bare ids and cid: URLs, encoded or not', () => {
      const forms = ['<doc1@example.org>', 'doc1@example.org', ' <doc1@example.org> ', 'cid:doc1@example.org', 'cid:doc1%40example.org', 'CID:doc1%40example.org', '<doc1%40example.org>'];
      for (const f of forms) expect(normaliseContentId(f), f).to.equal('doc1@example.org');
      expect(normaliseContentId('cid:100%')).to.equal('100%');
    });

    it('round-trips generated ids through cid URLs', () => {
      const id = newContentId();
      expect(normaliseContentId(cidUrl(id))).to.equal(id);
      expect(cidUrl('a b@x')).to.equal('cid:a%20b@x');
      expect(normaliseContentId(cidUrl('a b/é@x'))).to.equal('a b/é@x');
    });
  });

  describe('SoapFault', () => {
    it('maps codes to the SOAP 1.2 HTTP binding statuses', () => {
      expect(new SoapFault({ code: 'Sender', reason: 'x' }).httpStatus).to.equal(400);
      expect(new SoapFault({ code: 'Receiver', reason: 'x' }).httpStatus).to.equal(500);
      expect(new SoapFault({ code: 'MustUnderstand', reason: 'x' }).httpStatus).to.equal(500);
      expect(new SoapFault({ code: 'VersionMismatch', reason: 'x' }).httpStatus).to.equal(500);
      expect(new SoapFault({ code: 'DataEncodingUnknown', reason: 'x' }).httpStatus).to.equal(500);
      expect(new SoapFault({ code: 'Sender', reason: 'x', httpStatus: 413 }).httpStatus).to.equal(413);
    });

    it('serialises subcodes as resolvable QNames, escapes the reason and carries the detail', () => {
      const fault = new SoapFault({
        code: 'Sender',
        subcode: [WSSE_FAULT.invalidSecurity, { ns: 'urn:custom', local: 'Deeper' }],
        reason: 'bad <token> & more',
        detail: { ns: 'urn:custom', local: 'Why', attrs: {}, children: ['because'] },
      });
      const xml = answerEnvelope(faultBodyXml(fault));
      const root = parseXml(xml);
      const f = childElement(childElement(root, NS.soap12, 'Body')!, NS.soap12, 'Fault')!;
      const code = childElement(f, NS.soap12, 'Code')!;
      const sub = childElement(code, NS.soap12, 'Subcode')!;
      const subValue = childElement(sub, NS.soap12, 'Value')!;
      expect(resolveQName(textContent(subValue), subValue)).to.equal(`{${NS.wsse}}InvalidSecurity`);
      const subsub = childElement(childElement(sub, NS.soap12, 'Subcode')!, NS.soap12, 'Value')!;
      expect(resolveQName(textContent(subsub), subsub)).to.equal('{urn:custom}Deeper');
      expect(textContent(childElement(childElement(f, NS.soap12, 'Reason')!, NS.soap12, 'Text')!)).to.equal('bad <token> & more');
      expect(textContent(childElement(childElement(f, NS.soap12, 'Detail')!, 'urn:custom', 'Why')!)).to.equal('because');
      expect(fault.subcode).to.deep.equal(WSSE_FAULT.invalidSecurity);
    });

    it('writes NotUnderstood blocks whose qname resolves', () => {
      const fault = new SoapFault({ code: 'MustUnderstand', reason: 'x', notUnderstood: [{ ns: 'urn:a', local: 'B' }] });
      const [block] = faultHeaderXml(fault);
      const nu = parseXml(block!);
      expect(resolveQName(nu.attrs.qname!, nu)).to.equal('{urn:a}B');
    });
  });

  describe('ACTIONS', () => {
    it('pairs every request action with its Response action', () => {
      for (const [key, pair] of Object.entries(ACTIONS)) {
        expect(pair.response, key).to.equal(`${pair.request}Response`);
        expect(pair.request, key).to.match(/^urn:ihe:iti:20(07|09|10|17|18):/);
      }
    });

    // The tests take their actions from this table (test/helpers/soap.ts), so it is pinned here,
    // the one place in the tests where the URIs of ITI TF-2 are spelled out.
    it('names the request actions of ITI TF-2', () => {
      expect(Object.fromEntries(Object.entries(ACTIONS).map(([key, pair]) => [key, pair.request]))).to.deep.equal({
        iti18: 'urn:ihe:iti:2007:RegistryStoredQuery',
        iti38: 'urn:ihe:iti:2007:CrossGatewayQuery',
        iti39: 'urn:ihe:iti:2007:CrossGatewayRetrieve',
        iti41: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b',
        iti42: 'urn:ihe:iti:2007:RegisterDocumentSet-b',
        iti43: 'urn:ihe:iti:2007:RetrieveDocumentSet',
        iti51: 'urn:ihe:iti:2009:MultiPatientStoredQuery',
        iti57: 'urn:ihe:iti:2010:UpdateDocumentSet',
        iti62: 'urn:ihe:iti:2010:DeleteDocumentSet',
        iti86: 'urn:ihe:iti:2017:RemoveDocuments',
        iti92: 'urn:ihe:iti:2018:RestrictedUpdateDocumentSet',
      });
    });
  });

  describe('logging', () => {
    it('writes JSON lines, and request loggers carry messageId and action', () => {
      const lines: Record<string, unknown>[] = [];
      const logger = createLogger({ level: 'info' });
      logger.clear();
      logger.add(
        new winston.transports.Stream({
          stream: new Writable({
            write(chunk: Buffer, _e, done) {
              lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
              done();
            },
          }),
        }),
      );
      requestLogger(logger, { messageId: 'urn:uuid:1', action: 'urn:a' }).info('hello', { n: 1 });
      requestLogger(logger, { action: 'urn:b' }).debug('dropped below the level');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ message: 'hello', level: 'info', messageId: 'urn:uuid:1', action: 'urn:a', n: 1 });
      expect(lines[0]!.timestamp).to.be.a('string');
    });

    it('can be silenced', () => {
      expect(createLogger({ level: 'info', silent: true }).silent).to.equal(true);
    });
  });

  describe('xopReferences', () => {
    it('finds every xop:Include in document order, nested ones and ones under another Include included', () => {
      const body = el(NS.rim, 'A', {}, [
        el(NS.rim, 'B', {}, [xopInclude('one@x'), 'text', el(NS.rim, 'C', {}, [xopInclude('a b@x')])]),
        el(NS.xop, 'Include', { href: 'cid:outer%40x' }, [xopInclude('inner@x')]),
        el(NS.rim, 'D'),
      ]);
      expect(xopReferences(body)).to.deep.equal(['one@x', 'a b@x', 'outer@x', 'inner@x']);
      expect(xopReferences(el(NS.rim, 'Empty'))).to.deep.equal([]);
    });

    it('passes over pre-serialised fragments without xop, and refuses to guess about one that could hold an Include', () => {
      const plain = serializeFragment(el(NS.rim, 'ExtrinsicObject', { id: 'urn:uuid:1' }, [el(NS.rim, 'Name')]))!;
      expect(xopReferences(el(NS.query, 'AdhocQueryResponse', {}, [el(NS.rim, 'RegistryObjectList', {}, [plain, plain])]))).to.deep.equal([]);
      const holding = serializeFragment(el(NS.rim, 'Document', {}, [xopInclude('x@y')]))!;
      expect(() => xopReferences(el(NS.rim, 'List', {}, [holding]))).to.throw(TypeError, /pre-serialised Document/);
    });
  });

  describe('readEnvelope addressing', () => {
    // Exactly the header blocks given (no addressing headers of the builder's own).
    const envelopeWith = (headers: string) =>
      parseXml(envelope({ messageId: false, replyTo: false, headers, body: '<o:Req xmlns:o="urn:other"/>' }));
    const reasonOf = (headers: string): string => {
      try {
        readEnvelope(envelopeWith(headers), new QNameSet());
      } catch (e) {
        return (e as SoapFault).reason;
      }
      return 'no fault';
    };

    it('reads the properties, ignoring foreign and empty ones, with every RelatesTo in order', () => {
      const soap = readEnvelope(
        envelopeWith(
          '<o:Action xmlns:o="urn:other">urn:foreign</o:Action><wsa:Action> urn:a </wsa:Action><wsa:MessageID>urn:uuid:1</wsa:MessageID><wsa:To></wsa:To>' +
            '<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>' +
            '<wsa:RelatesTo>urn:uuid:0</wsa:RelatesTo><wsa:RelatesTo RelationshipType="urn:rel">urn:uuid:9</wsa:RelatesTo>',
        ),
        new QNameSet(),
      );
      expect(soap.addressing).to.deep.equal({
        action: 'urn:a',
        messageId: 'urn:uuid:1',
        replyTo: 'http://www.w3.org/2005/08/addressing/anonymous',
        relatesTo: [
          { value: 'urn:uuid:0', relationshipType: 'http://www.w3.org/2005/08/addressing/reply' },
          { value: 'urn:uuid:9', relationshipType: 'urn:rel' },
        ],
      });
      expect(soap.body.local).to.equal('Req');
    });

    it('faults on the first property in Action, MessageID, To, ReplyTo, FaultTo order, whatever the header order', () => {
      const twice = (local: string, inner = 'x') => `<wsa:${local}>${inner}</wsa:${local}><wsa:${local}>${inner}</wsa:${local}>`;
      expect(reasonOf(twice('To') + twice('MessageID') + twice('Action'))).to.contain('more than one wsa:Action');
      expect(reasonOf(twice('To') + twice('MessageID'))).to.contain('more than one wsa:MessageID');
      expect(reasonOf(twice('FaultTo') + '<wsa:ReplyTo><wsa:Address>http://elsewhere</wsa:Address></wsa:ReplyTo>')).to.contain('wsa:ReplyTo must be');
      expect(reasonOf('<wsa:FaultTo/>')).to.contain('wsa:FaultTo has no wsa:Address');
    });
  });
});
