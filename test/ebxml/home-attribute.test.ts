/**
 * home="" names no community: IPF and other peers write it on submitted objects that have none
 * yet. The wire reader takes it as absent on RegistryObjects, ObjectRefs and AdhocQuery alike.
 */
import { expect } from 'chai';
import { parseAdhocQueryRequest, parseSubmitObjectsRequest, serializeSubmitObjectsRequest } from '../../registry/ebxml/index.js';
import { STORED_QUERY_ID } from '../../registry/model/query.js';
import { NS } from '../../registry/xml/namespaces.js';
import { parseXml } from '../../registry/xml/parse.js';
import { serializeXml } from '../../registry/xml/serialize.js';
import { richSubmission } from './fixtures.js';

const withoutHomes = (xml: string): string => xml.replace(/ home="[^"]*"/g, '');

describe('ebxml: an empty home attribute is absent', () => {
  it('on every RegistryObject of a submission', () => {
    const xml = withoutHomes(serializeXml(serializeSubmitObjectsRequest(richSubmission())));
    const withEmptyHomes = xml.replace(/<(rim:(?:ExtrinsicObject|RegistryPackage|Association))\s/g, '<$1 home="" ');
    expect(withEmptyHomes).to.not.equal(xml);
    const sub = parseSubmitObjectsRequest(parseXml(withEmptyHomes));
    const all = [...sub.documentEntries, ...sub.folders, ...sub.associations, sub.submissionSet];
    expect(all.length).to.be.greaterThan(3);
    for (const o of all) expect(o.homeCommunityId, o.entryUuid).to.equal(undefined);
  });

  it('a blank home is absent too, a real one is kept', () => {
    const xml = withoutHomes(serializeXml(serializeSubmitObjectsRequest(richSubmission())));
    const blank = parseSubmitObjectsRequest(parseXml(xml.replace(/<rim:ExtrinsicObject\s/, '<rim:ExtrinsicObject home="  " ')));
    expect(blank.documentEntries[0]!.homeCommunityId).to.equal(undefined);
    const real = parseSubmitObjectsRequest(parseXml(xml.replace(/<rim:ExtrinsicObject\s/, '<rim:ExtrinsicObject home="urn:oid:1.2.3" ')));
    expect(real.documentEntries[0]!.homeCommunityId).to.equal('urn:oid:1.2.3');
  });

  it('on an AdhocQuery', () => {
    const query = parseAdhocQueryRequest(
      parseXml(
        `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}"><query:ResponseOption returnType="ObjectRef"/>` +
          `<rim:AdhocQuery id="${STORED_QUERY_ID.GetDocuments}" home=""><rim:Slot name="$XDSDocumentEntryUniqueId"><rim:ValueList><rim:Value>('1.2.3')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>`,
      ),
    );
    expect(query.homeCommunityId).to.equal(undefined);
  });
});
