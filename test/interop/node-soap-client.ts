/**
 * The node-soap client of the interop tests: node-soap reads the WSDL the node serves, with its own
 * WSDL/XSD reader, serializer and HTTP, and sends WS-Addressing 1.0 headers as IHE requires them.
 */
import { randomUUID } from 'node:crypto';
import * as soap from 'soap';

const WSA = 'http://www.w3.org/2005/08/addressing';

/**
 * A node-soap client on the WSDL served by the node. Every schema the WSDL imports (and those the
 * schemas import) is fetched from the node too, at `<endpoint>?xsd=<file>`; `fetched` records them.
 */
export async function clientFor(wsdlUrl: string, extra: soap.IOptions = {}): Promise<{ client: soap.Client; fetched: string[]; messageIds: string[] }> {
  const fetched: string[] = [];
  const messageIds: string[] = [];
  const client = await soap.createClientAsync(wsdlUrl, {
    forceSoap12Headers: true,
    // The IHE operation names contain '-' (…ProvideAndRegisterDocumentSet-b); node-soap only
    // defines promise methods for identifier-safe names.
    normalizeNames: true,
    disableCache: true,
    wsdl_options: {
      overrideImportLocation: (location: string, _parent: string, include: string) => {
        fetched.push(location);
        return location;
      },
    },
    ...extra,
  });
  // WS-Addressing 1.0 as IHE requires it, built per call (fresh MessageID, To = the endpoint).
  client.addSoapHeader((_method: unknown, location: string, soapAction: string) => {
    messageIds.push(`urn:uuid:${randomUUID()}`);
    return (
      `<wsa:Action xmlns:wsa="${WSA}" soap:mustUnderstand="true">${soapAction}</wsa:Action>` +
      `<wsa:MessageID xmlns:wsa="${WSA}">${messageIds.at(-1)}</wsa:MessageID>` +
      `<wsa:ReplyTo xmlns:wsa="${WSA}"><wsa:Address>${WSA}/anonymous</wsa:Address></wsa:ReplyTo>` +
      `<wsa:To xmlns:wsa="${WSA}" soap:mustUnderstand="true">${location}</wsa:To>`
    );
  });
  return { client, fetched, messageIds };
}

