/** Namespace URIs used across the node. One place, so that no module spells them twice. */
export const NS = {
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsa: 'http://www.w3.org/2005/08/addressing',
  xop: 'http://www.w3.org/2004/08/xop/include',
  xml: 'http://www.w3.org/XML/1998/namespace',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  saml2: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  rim: 'urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0',
  rs: 'urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0',
  lcm: 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0',
  query: 'urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0',
  xdsb: 'urn:ihe:iti:xds-b:2007',
  rmd: 'urn:ihe:iti:rmd:2017',
  /** ebRIM 2.1 namespaces: only the conformance runner reads these (old NIST metadata files). */
  rim21: 'urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1',
  rs21: 'urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1',
  query21: 'urn:oasis:names:tc:ebxml-regrep:query:xsd:2.1',
} as const;

/** Conventional prefixes used when we write XML. */
export const PREFERRED_PREFIX: Readonly<Record<string, string>> = {
  [NS.soap12]: 'soap',
  [NS.wsa]: 'wsa',
  [NS.xop]: 'xop',
  [NS.xsi]: 'xsi',
  [NS.wsse]: 'wsse',
  [NS.wsu]: 'wsu',
  [NS.saml2]: 'saml2',
  [NS.ds]: 'ds',
  [NS.rim]: 'rim',
  [NS.rs]: 'rs',
  [NS.lcm]: 'lcm',
  [NS.query]: 'query',
  [NS.xdsb]: 'xdsb',
  [NS.rmd]: 'rmd',
};
