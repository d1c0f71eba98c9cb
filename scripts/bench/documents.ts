/**
 * The Document Repository's requests for the benchmark: ITI-41 as an MTOM message shaped like
 * Apache CXF sends it (the root part, then the document as a binary part referenced by
 * xop:Include), and the plain SOAP ITI-43 that retrieves it. The metadata is the Norwegian
 * fixture discharge summary (fixtures/messages), for a patient the benchmark names, so the
 * documents of a run never land on a patient that the query lines ask for.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ACTIONS } from '../../connector/soap/actions.js';
import { buildEnvelope } from '../conformance/soap.js';
import { EPIKRISE_ITI42 } from '../../fixtures/index.js';

/** The node's default repositoryUniqueId (connector/config.ts), which the bench node keeps. */
export const BENCH_REPOSITORY = '2.25.309237645197082458325426232421537170187';

const FIXTURE = EPIKRISE_ITI42;
let fixture: string | undefined;

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface ProvideRequest {
  readonly body: Buffer;
  readonly contentType: string;
  readonly documentUniqueId: string;
}

let seq = 0;

/**
 * An ITI-41 MTOM request carrying `document` for `patientCx` (an unescaped CX), with a fresh
 * document and submission set uniqueId and MessageID per call. hash, size and repositoryUniqueId
 * are left out: the repository computes them, as it does for a real source.
 */
export function provideRequest(to: string, patientCx: string, document: Buffer): ProvideRequest {
  const documentUniqueId = `2.16.578.1.12.4.5.100.1.77.${Date.now()}.${process.pid}.${++seq}`;
  fixture ??= readFileSync(FIXTURE, 'utf8')
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace(/<!--[\s\S]*?-->\s*/, '')
    .replace(/<rim:Slot name="(hash|size|repositoryUniqueId)">[\s\S]*?<\/rim:Slot>\s*/g, '');
  const sor = fixture
    .replaceAll('$PATIENT$', xmlEscape(patientCx))
    .replaceAll('$DOC_UID$', documentUniqueId)
    .replaceAll('$SS_UID$', `${documentUniqueId}.1`)
    .replaceAll('$NOW$', new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14));
  const boundary = `uuid:${randomUUID()}`;
  const action = ACTIONS.iti41.request;
  const payload =
    `<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007" xmlns:xop="http://www.w3.org/2004/08/xop/include">${sor}` +
    `<xdsb:Document id="Document01"><xop:Include href="cid:doc1@bench"/></xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"\r\nContent-ID: <root@bench>\r\n\r\n` +
      buildEnvelope(action, to, payload) +
      `\r\n--${boundary}\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <doc1@bench>\r\n\r\n`,
  );
  return {
    body: Buffer.concat([head, document, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/related; type="application/xop+xml"; boundary="${boundary}"; start="<root@bench>"; start-info="application/soap+xml"; action="${action}"`,
    documentUniqueId,
  };
}

/** An ITI-43 request for one document of this repository (plain SOAP; the answer is MTOM). */
export function retrieveRequest(to: string, documentUniqueId: string): string {
  return buildEnvelope(
    ACTIONS.iti43.request,
    to,
    `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest>` +
      `<xdsb:RepositoryUniqueId>${BENCH_REPOSITORY}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>${documentUniqueId}</xdsb:DocumentUniqueId>` +
      `</xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>`,
  );
}

/**
 * A deterministic document of `bytes` bytes: a repeating pseudo-random pattern, so it does not
 * compress and differs at every offset a misplaced part boundary would show.
 */
export function benchDocument(bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes; i++) {
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
