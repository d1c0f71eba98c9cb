/**
 * A node for the operator-page tests: trust enabled (so that audit events name the practitioner,
 * who is only known from a verified XUA assertion), an admin token, and one community whose URL
 * nothing listens on. `populate` makes a few audited requests: a provide-and-register and a query
 * by the test clinician.
 */
import { cx, epikrise, findDocumentsBody, provideBody, status } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postRaw, signedEnvelope, soapContentType } from '../helpers/soap.js';
import { deadUrl } from '../gateway/helpers.js';
import { clinician, HOME, PATIENT_FNR, signed, trustConfig } from '../wiring/helpers.js';

export const ADMIN_TOKEN = 'operator-page-test-token-0123456789abcdef';
export const ACCESS_LOG_TOKEN = 'operator-page-access-log-token-0123';
/** The patient-block API's default path (/admin/patient-blocks) lies under the page's (/admin). */
export const BLOCKS_TOKEN = 'operator-page-test-blocks-token-0123456789';
export const DEAD_COMMUNITY = 'urn:oid:2.16.578.1.12.4.5.100.9';
export const DEAD_COMMUNITY_NAME = 'Helse Nord (test, nothing listens)';

export async function startAdminNode(extraCommunities: { homeCommunityId: string; name?: string; queryUrl: string }[] = []): Promise<TestNode> {
  return startTestNode({
    homeCommunityId: HOME,
    trust: { ...trustConfig(), blocksApi: { token: BLOCKS_TOKEN } },
    audit: { accessLog: { token: ACCESS_LOG_TOKEN } },
    admin: { token: ADMIN_TOKEN },
    gateway: {
      communities: [{ homeCommunityId: DEAD_COMMUNITY, name: DEAD_COMMUNITY_NAME, queryUrl: await deadUrl() }, ...extraCommunities],
    },
  });
}

/** Audited requests by the test clinician for PATIENT_FNR: ITI-41, then ITI-18. */
export async function populate(node: TestNode): Promise<void> {
  const assertion = signed(clinician(PATIENT_FNR));
  const call = (path: string, action: string, body: string) =>
    postRaw(`${node.url}${path}`, signedEnvelope(assertion, action, body), soapContentType(action));
  const submission = epikrise({ patient: cx(PATIENT_FNR), forRepository: true });
  const provided = await call(node.config.endpoints.repository, ACTIONS.iti41.request, provideBody(submission.xml, [{ id: 'Document01', bytes: Buffer.from('epikrise') }]));
  if (status(provided.body) !== 'Success') throw new Error(`ITI-41 failed: ${status(provided.body)}`);
  const queried = await call(node.config.endpoints.registry, ACTIONS.iti18.request, findDocumentsBody(cx(PATIENT_FNR)));
  if (status(queried.body) !== 'Success') throw new Error(`ITI-18 failed: ${status(queried.body)}`);
}

/** A federated query through the initiating gateway: the dead community's call fails (its statistics). */
export async function federatedQuery(node: TestNode): Promise<void> {
  const assertion = signed(clinician(PATIENT_FNR));
  const url = `${node.url}${node.config.endpoints.initiating}`;
  await postRaw(url, signedEnvelope(assertion, ACTIONS.iti18.request, findDocumentsBody(cx(PATIENT_FNR))), soapContentType(ACTIONS.iti18.request));
}

/** GET of the admin API, with the bearer token unless told otherwise. */
export async function adminGet(node: TestNode, path: string, token: string | null = ADMIN_TOKEN): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(`${node.url}${node.config.admin.path}/${path}`, {
    redirect: 'manual',
    ...(token !== null ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
