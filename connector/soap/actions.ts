/**
 * WS-Addressing action URIs of the IHE ITI transactions this node serves or calls
 * (ITI TF-2: each transaction's "Web Services Transport" section).
 */
export interface ActionPair {
  readonly request: string;
  readonly response: string;
}

export const ACTIONS = {
  /** Registry Stored Query. */
  iti18: { request: 'urn:ihe:iti:2007:RegistryStoredQuery', response: 'urn:ihe:iti:2007:RegistryStoredQueryResponse' },
  /** Cross Gateway Query. */
  iti38: { request: 'urn:ihe:iti:2007:CrossGatewayQuery', response: 'urn:ihe:iti:2007:CrossGatewayQueryResponse' },
  /** Cross Gateway Retrieve. */
  iti39: { request: 'urn:ihe:iti:2007:CrossGatewayRetrieve', response: 'urn:ihe:iti:2007:CrossGatewayRetrieveResponse' },
  /** Provide and Register Document Set-b. */
  iti41: {
    request: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b',
    response: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse',
  },
  /** Register Document Set-b. */
  iti42: { request: 'urn:ihe:iti:2007:RegisterDocumentSet-b', response: 'urn:ihe:iti:2007:RegisterDocumentSet-bResponse' },
  /** Retrieve Document Set. */
  iti43: { request: 'urn:ihe:iti:2007:RetrieveDocumentSet', response: 'urn:ihe:iti:2007:RetrieveDocumentSetResponse' },
  /** Multi-Patient Stored Query (ITI TF-2b 3.51.5). */
  iti51: { request: 'urn:ihe:iti:2009:MultiPatientStoredQuery', response: 'urn:ihe:iti:2009:MultiPatientStoredQueryResponse' },
  /** Update Document Set (XDS Metadata Update). */
  iti57: { request: 'urn:ihe:iti:2010:UpdateDocumentSet', response: 'urn:ihe:iti:2010:UpdateDocumentSetResponse' },
  /** Delete Document Set (Remove Metadata). */
  iti62: { request: 'urn:ihe:iti:2010:DeleteDocumentSet', response: 'urn:ihe:iti:2010:DeleteDocumentSetResponse' },
  /** Remove Documents. */
  iti86: { request: 'urn:ihe:iti:2017:RemoveDocuments', response: 'urn:ihe:iti:2017:RemoveDocumentsResponse' },
  /** Restricted Update Document Set (IHE RMU supplement; the NIST toolkit's TransactionType RMU and IPF's ITI-92 port use the same pair). */
  iti92: { request: 'urn:ihe:iti:2018:RestrictedUpdateDocumentSet', response: 'urn:ihe:iti:2018:RestrictedUpdateDocumentSetResponse' },
} as const satisfies Record<string, ActionPair>;

export type TransactionKey = keyof typeof ACTIONS;

/** WS-Addressing 1.0 SOAP Binding §6: the action of a fault the SOAP layer raises. */
export const SOAP_FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/soap/fault';
/** WS-Addressing 1.0 SOAP Binding §6: the action of the WS-Addressing-defined faults. */
export const WSA_FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/fault';
/** WS-Addressing 1.0 Core §2.1: the address meaning "reply on the back channel". */
export const WSA_ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';
/** WS-Addressing 1.0 Core §2.1: the address meaning "discard". */
export const WSA_NONE = 'http://www.w3.org/2005/08/addressing/none';
