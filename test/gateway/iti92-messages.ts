/**
 * The ITI-92 (Restricted Update Document Set) requests of the RMU tests, written as text from the
 * Norwegian epikrise fixture, the way a source would send them: an ITI-57-shaped
 * SubmitObjectsRequest whose DocumentEntry carries the lid of the registered one and whose
 * SubmissionSet HasMember carries PreviousVersion. Shared by the registry tests
 * (test/registry/iti92*.test.ts) and the responding-gateway tests (test/gateway/*iti92*).
 */
import { NS } from '../../registry/xml/namespaces.js';
import { cx, epikrise } from '../helpers/ebxml.js';
import { PATIENT_FNR } from '../wiring/helpers.js';

export const PATIENT = cx(PATIENT_FNR);
export const STATUS = 'urn:oasis:names:tc:ebxml-regrep:StatusType:';
export const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
export const slot = (name: string, ...values: string[]): string =>
  `<rim:Slot name="${name}"><rim:ValueList>${values.map((v) => `<rim:Value>${v}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`;

export interface VersionOptions {
  /** The lid of the registered entry; left out for an initial version sent as an update. */
  readonly lid?: string;
  readonly docUid: string;
  /** PreviousVersion, 1 unless given. */
  readonly previous?: string;
  /** The patient (CX) of the SubmissionSet, the entry and its sourcePatientId; PATIENT unless given. */
  readonly patient?: string;
  readonly title?: string;
  /** Further changes to the message text. */
  readonly edit?: (xml: string) => string;
}

/** An RMU request: a new version of the epikrise registered under `lid`. */
export function rmuVersion(o: VersionOptions): string {
  let xml = epikrise({ patient: o.patient ?? PATIENT, docUid: o.docUid }).xml;
  if (o.lid !== undefined) xml = xml.replace('<rim:ExtrinsicObject id="Document01"', `<rim:ExtrinsicObject id="Document01" lid="${o.lid}"`);
  xml = xml.replace(/(<rim:Slot name="SubmissionSetStatus">[\s\S]*?<\/rim:Slot>)/, `$1${slot('PreviousVersion', o.previous ?? '1')}`);
  if (o.title !== undefined) xml = xml.replace('value="Epikrise indremedisin"', `value="${o.title}"`);
  return o.edit ? o.edit(xml) : xml;
}

/** Edit: the entry's sourcePatientId. */
export const setSourcePatientId = (patient: string) => (xml: string): string =>
  xml.replace(/(<rim:Slot name="sourcePatientId"><rim:ValueList><rim:Value>)[^<]*/, `$1${xmlEscape(patient)}`);

/** Edit: attributes on the entry's ExtrinsicObject element (`home="…"`, `status="…"`). */
export const entryAttributes = (attributes: string) => (xml: string): string =>
  xml.replace('<rim:ExtrinsicObject id="Document01"', `<rim:ExtrinsicObject ${attributes} id="Document01"`);

/** Edit: slots or other children added first in the entry. */
export const addToEntry = (extra: string) => (xml: string): string => xml.replace(/(<rim:ExtrinsicObject id="Document01"[^>]*>)/, `$1${extra}`);

/** Edit: the entry's repositoryUniqueId (the fixture's is 2.16.578.1.12.4.5.100.1.2). */
export const setRepositoryUniqueId = (repositoryUniqueId: string) => (xml: string): string =>
  xml.replace('<rim:Value>2.16.578.1.12.4.5.100.1.2</rim:Value>', `<rim:Value>${repositoryUniqueId}</rim:Value>`);

/** Edit: the confidentialityCode (Volven 9603), N in the fixture. */
export const setConfidentiality = (code: string) => (xml: string): string => xml.replace('nodeRepresentation="N">', `nodeRepresentation="${code}">`);

/** Edit: objects added at the end of the request's RegistryObjectList. */
export const append = (objects: string) => (xml: string): string => xml.replace('</rim:RegistryObjectList>', `${objects}</rim:RegistryObjectList>`);

/** An ITI-57 request changing the status of `target` from Approved to Deprecated (for `patient`). */
export function deprecate(target: string, patient = PATIENT): string {
  const ss = /<rim:RegistryPackage id="SubmissionSet01">[\s\S]*?<\/rim:RegistryPackage>\s*<rim:Classification id="cl10"[^>]*\/>/.exec(epikrise({ patient }).xml)![0];
  return (
    `<lcm:SubmitObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:RegistryObjectList>${ss}` +
    `<rim:Association id="up01" associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus" sourceObject="SubmissionSet01" targetObject="${target}">` +
    `${slot('OriginalStatus', `${STATUS}Approved`)}${slot('NewStatus', `${STATUS}Deprecated`)}</rim:Association></rim:RegistryObjectList></lcm:SubmitObjectsRequest>`
  );
}

/**
 * The DocumentEntry of another RMU request with its SubmissionSet HasMember, as a second entry of
 * one request: ids renamed (Document02, …b) so that they do not collide with the first entry's.
 */
export function secondEntry(request: string): string {
  const entry = /<rim:ExtrinsicObject[\s\S]*?<\/rim:ExtrinsicObject>/.exec(request)![0];
  const membership = /<rim:Association id="as01"[\s\S]*?<\/rim:Association>/.exec(request)![0];
  return `${entry}${membership}`.replace(/"Document01"/g, '"Document02"').replace(/ id="(cl|ei|as)(\d+)"/g, ' id="$1b$2"');
}
