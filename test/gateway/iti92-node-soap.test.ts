/**
 * Interop: node-soap (its own WSDL/XSD reader, serializer and HTTP) sends ITI-92 Restricted Update
 * Document Set through the WSDL operations the node serves, at the responding gateway (XCA
 * Persistence Option, RespondingGateway.wsdl) and at the registry (XDS Persistence Option,
 * DocumentRegistry.wsdl). The request is built from JSON through the schemas those WSDLs import;
 * the node answers with the ITI-92 response action and makes the new version.
 */
import { expect } from 'chai';
import type * as soap from 'soap';
import type { DocumentEntry } from '../../registry/model/metadata.js';
import { epikrise, errorCodes as codesOf, status, uid } from '../helpers/ebxml.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { ACTIONS, postSoap } from '../helpers/soap.js';
import { clientFor } from '../interop/node-soap-client.js';
import { attrs, errorCodes, operation, SUCCESS, updateDocumentSet, type Json } from '../interop/node-soap-messages.js';
import { HOME } from '../wiring/helpers.js';
import { PATIENT } from './iti92-messages.js';

/** The ITI-57-shaped request ITI-92 takes: version 2 of `v1`, a new title and confidentialityCode R (RMU keeps the rest). */
function restrictedUpdate(v1: DocumentEntry, title: string): Json {
  return updateDocumentSet(
    {
      id: 'Document01',
      lid: v1.entryUuid,
      patient: PATIENT,
      uniqueId: v1.uniqueId!,
      title,
      repositoryUniqueId: v1.repositoryUniqueId!,
      hash: v1.hash!,
      size: v1.size!,
      confidentialityCode: 'R',
    },
    '1',
    uid(),
  );
}

describe('interop: node-soap sends ITI-92 through the WSDL operations', function () {
  this.timeout(20_000);
  let node: TestNode;
  const versionsOf = async (docUid: string) => (await node.registry.store.find({ type: 'DocumentEntry', uniqueId: docUid })) as DocumentEntry[];

  before(async () => {
    node = await startTestNode({ homeCommunityId: HOME });
  });
  after(async () => node?.close());

  const endpoints = [
    { path: '/xca/responding', service: 'RespondingGateway', option: 'XCA Persistence Option' },
    { path: '/xds/registry', service: 'DocumentRegistry', option: 'XDS Persistence Option' },
  ] as const;

  for (const e of endpoints) {
    it(`${e.service}_RestrictedUpdateDocumentSet (${e.option}): the new version is made, the answer carries the ITI-92 response action`, async () => {
      const docUid = uid();
      const registered = await postSoap(`${node.url}/xds/registry`, ACTIONS.iti42.request, epikrise({ patient: PATIENT, docUid }).xml);
      expect(status(registered.body), codesOf(registered.body).join(' ')).to.equal('Success');
      const [v1] = await versionsOf(docUid);

      const { client } = await clientFor(`${node.url}${e.path}?wsdl`);
      const operations = Object.keys((client.describe() as Record<string, Record<string, Json>>)[`${e.service}_Service`]![`${e.service}_Port_Soap12`]!);
      expect(operations).to.include(`${e.service}_RestrictedUpdateDocumentSet`);
      const [result, , header] = await operation(client, `${e.service}_RestrictedUpdateDocumentSetAsync`)(restrictedUpdate(v1!, `Epikrise, korrigert via ${e.service}`));
      expect(errorCodes(result)).to.deep.equal([]);
      expect(attrs(result).status).to.equal(SUCCESS);
      expect((client as soap.Client).lastRequest).to.include(`>${ACTIONS.iti92.request}</wsa:Action>`);
      expect((header?.Action as Json).$value).to.equal(ACTIONS.iti92.response);

      const versions = await versionsOf(docUid);
      const v2 = versions.find((v) => v.version === '2');
      expect(v2?.title?.value).to.equal(`Epikrise, korrigert via ${e.service}`);
      expect(v2?.confidentialityCodes.map((c) => c.code)).to.deep.equal(['R']);
    });
  }
});
