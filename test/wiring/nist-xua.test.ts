/**
 * The NIST XUA variants (reg_xua, rep_xua, rg(xca)_xua, ig(xca)_xua): each plan's transaction,
 * taken from the testkit, sent to a trust-enabled node with the assertion our own test issuer signs
 * for that variant (nistVariant in scripts/sign-assertion.ts, standing in for the toolkit's STS,
 * which issues one per username appended to the test id), and the plan's ExpectedStatus checked.
 *
 * Every variant but withauthzconsent must be a SOAP Fault. withauthzconsent must be accepted (no
 * fault) and, where the answer depends only on what this test stored, give the plan's status.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { serializeDom } from '../../scripts/conformance/dom.js';
import { loadMetadata, prepareSubmission, UniqueIdAllocator } from '../../scripts/conformance/metadata.js';
import { defaultAssertionOptions, NIST_XUA_VARIANTS, testKey, variantAssertion, type NistXuaVariant } from '../../scripts/sign-assertion.js';
import { NS } from '../../registry/xml/namespaces.js';
import { descendants } from '../../registry/xml/tree.js';
import { findDocumentsBody, provideBody, status } from '../helpers/ebxml.js';
import { NIST_PATIENT_AUTHORITY, startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { HOME, PRACTITIONER_FNR, trustConfig } from './helpers.js';
import { NIST_TESTKIT } from '../../fixtures/index.js';

const TESTKIT = join(NIST_TESTKIT, 'tests');
const PATIENT = `xua${Date.now().toString(36)}^^^&${NIST_PATIENT_AUTHORITY}&ISO`;

/** Test id prefix per collection, and where its transaction goes. */
const PLANS = ['11990', '11897', '11966', '12309', '12312', '15808', '15809'] as const;
const ROUTES: Record<string, { path: string; action: string }> = {
  RegisterTransaction: { path: '/xds/registry', action: ACTIONS.iti42.request },
  StoredQueryTransaction: { path: '/xds/registry', action: ACTIONS.iti18.request },
  ProvideAndRegisterTransaction: { path: '/xds/repository', action: ACTIONS.iti41.request },
  XCQTransaction: { path: '/xca/responding', action: ACTIONS.iti38.request },
  XCRTransaction: { path: '/xca/responding', action: ACTIONS.iti39.request },
  IGQTransaction: { path: '/xca/initiating', action: ACTIONS.iti18.request },
  IGRTransaction: { path: '/xca/initiating', action: ACTIONS.iti43.request },
};
/**
 * withauthzconsent steps whose status depends on documents held by the toolkit's own test data
 * (12318, 15807 …), which this test cannot reproduce: only "accepted, no fault" is checked there.
 */
const DATA_DEPENDENT = new Set(['12309_withauthzconsent/finddocs', '15809_withauthzconsent/OneDocRetrieve']);

interface Step {
  readonly id: string;
  readonly transaction: string;
  readonly expected: string;
  readonly metadata: string;
  readonly dir: string;
}

function steps(testId: string): Step[] {
  const dir = join(TESTKIT, testId);
  const sections = readFileSync(join(dir, 'index.idx'), 'utf8').split(/\s+/).filter((s) => s !== '');
  return sections.flatMap((section) => {
    const plan = readFileSync(join(dir, section, 'testplan.xml'), 'utf8');
    const transaction = /<(\w+Transaction)>/.exec(plan)?.[1] ?? '';
    const expected = /<ExpectedStatus>(\w+)<\/ExpectedStatus>/.exec(plan)?.[1] ?? '';
    const metadata = /<MetadataFile>([^<]+)<\/MetadataFile>/.exec(plan)?.[1] ?? '';
    return [{ id: `${testId}/${section}`, transaction, expected, metadata, dir: join(dir, section) }];
  });
}

describe('NIST XUA variants against a trust-enabled node', function () {
  this.timeout(30_000);
  let node: TestNode;
  const tokens = new Map<string, string>();
  const uids = new UniqueIdAllocator('1.2.42.77');
  const base = () => defaultAssertionOptions(new Date(), { subject: PRACTITIONER_FNR, patient: PATIENT });

  before(async () => {
    if (!existsSync(TESTKIT)) throw new Error(`the NIST testkit is missing at ${TESTKIT}`);
    node = await startTestNode({ homeCommunityId: HOME, trust: trustConfig() });
    // One document of the plans' patient, provided with a valid assertion: the retrieve and
    // GetDocuments plans refer to it.
    const sor = body('11966_withauthzconsent/submit', 'ProvideAndRegisterTransaction', 'single_doc.xml');
    const res = await postRaw(`${node.url}/xds/repository`, signedEnvelope(variantAssertion('valid', base(), testKey('issuer')), ACTIONS.iti41.request, sor), soapContentType(ACTIONS.iti41.request));
    expect(status(res.body)).to.equal('Success');
    const q = await postRaw(`${node.url}/xds/registry`, signedEnvelope(variantAssertion('valid', base(), testKey('issuer')), ACTIONS.iti18.request, findDocumentsBody(PATIENT)), soapContentType(ACTIONS.iti18.request));
    const entry = descendants(q.body, NS.rim, 'ExtrinsicObject')[0]!;
    const docUid = descendants(entry, NS.rim, 'ExternalIdentifier').find((e) => e.attrs['identificationScheme'] === 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab')!.attrs['value']!;
    for (const [k, v] of [
      ['$patient_id$', PATIENT], ['$patientid$', PATIENT], ['$repositoryuid$', node.config.repository.repositoryUniqueId],
      ['$docuid$', docUid], ['$doc_uuid_1$', entry.attrs['id']!], ['$home$', HOME],
    ] as const) tokens.set(k, v);
  });
  after(async () => {
    await node?.close();
  });

  /** The request body of a step: the plan's metadata with tokens filled in and fresh uniqueIds. */
  function body(stepId: string, transaction: string, file: string): string {
    const text = readFileSync(join(TESTKIT, stepId, file), 'utf8');
    const doc = loadMetadata(text, tokens.size > 0 ? tokens : new Map([['$patientid$', PATIENT], ['$patient_id$', PATIENT]]), file);
    if (transaction === 'RegisterTransaction' || transaction === 'ProvideAndRegisterTransaction') {
      prepareSubmission(doc, { assignUuids: false, assignUids: true, patientId: PATIENT, uids });
    }
    const xml = serializeDom(doc).replace(/^<\?xml[^>]*\?>\s*/, '');
    return transaction === 'ProvideAndRegisterTransaction' ? provideBody(xml, [{ id: 'Document01', bytes: readFileSync(join(TESTKIT, stepId, 'my_document.txt')) }]) : xml;
  }

  const variants = NIST_XUA_VARIANTS.filter((v): v is Exclude<NistXuaVariant, 'valid'> => v !== 'valid');
  for (const plan of PLANS) {
    for (const variant of variants) {
      const testId = `${plan}_${variant}`;
      it(`${testId}`, async () => {
        const all = steps(testId);
        // The variant applies to the step that carries the XUA transaction; a plan's later
        // evaluation section (11966 eval) checks the toolkit's own store and is not sent here.
        const run = all.filter((s) => s.transaction in ROUTES && (variant === 'withauthzconsent' || s.expected === 'Fault'));
        expect(run.length, 'steps to run').to.be.greaterThan(0);
        for (const step of run) {
          const route = ROUTES[step.transaction]!;
          const assertion = variantAssertion(variant, base(), testKey('issuer'));
          const res = await postRaw(`${node.url}${route.path}`, signedEnvelope(assertion, route.action, body(step.id, step.transaction, step.metadata)), soapContentType(route.action));
          const got = res.body.local === 'Fault' ? 'Fault' : status(res.body);
          if (variant !== 'withauthzconsent' || !DATA_DEPENDENT.has(step.id)) {
            expect(got, step.id).to.equal(step.expected);
          } else {
            expect(got, `${step.id}: the assertion must be accepted`).to.not.equal('Fault');
          }
        }
      });
    }
  }
});
