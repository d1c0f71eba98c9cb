/**
 * The ebRIM leftovers of the model (`extra`: slots, classifications and external identifiers XDS
 * does not define; an author's extra slots) as the node's own nested extensions, so that what the
 * ebRIM side kept verbatim survives a trip through FHIR too. Structured rather than one JSON string,
 * so a FHIR tool can at least show them.
 */
import { NO_EXTRA, type ExtraClassification, type ExtraExternalIdentifier, type ExtraMetadata, type LocalizedText, type Slot } from '../../../registry/model/metadata.js';
import { NODE_EXTENSION, type Extension } from './fhir.js';
import { compact } from './hl7v2.js';
import { extensionsOf, extensionString, extensionStrings, type Json } from './read.js';

function part(url: string, value: string | undefined): Extension[] {
  return value === undefined ? [] : [{ url, valueString: value }];
}

function textParts(prefix: string, text: LocalizedText | undefined): Extension[] {
  if (text === undefined) return [];
  return [...part(prefix, text.value), ...part(`${prefix}Lang`, text.lang), ...part(`${prefix}Charset`, text.charset)];
}

function readText(ext: Json, prefix: string): LocalizedText | undefined {
  const value = extensionString(ext, prefix);
  return value === undefined ? undefined : compact({ value, lang: extensionString(ext, `${prefix}Lang`), charset: extensionString(ext, `${prefix}Charset`) });
}

export function slotExtension(slot: Slot, url: string = NODE_EXTENSION.slot): Extension {
  return { url, extension: [...part('name', slot.name), ...part('type', slot.slotType), ...slot.values.map((v) => ({ url: 'value', valueString: v }))] };
}

export function readSlot(ext: Json): Slot | undefined {
  const name = extensionString(ext, 'name');
  return name === undefined ? undefined : compact({ name, slotType: extensionString(ext, 'type'), values: extensionStrings(ext, 'value') });
}

/** The slots in an element's `xds-slot` extensions. */
export function slotsOf(element: Json): Slot[] {
  return extensionsOf(element, NODE_EXTENSION.slot).flatMap((e) => readSlot(e) ?? []);
}

function classificationExtension(c: ExtraClassification): Extension {
  return {
    url: NODE_EXTENSION.classification,
    extension: [
      ...part('id', c.id),
      ...part('classificationScheme', c.classificationScheme),
      ...part('classificationNode', c.classificationNode),
      ...part('nodeRepresentation', c.nodeRepresentation),
      ...textParts('name', c.name),
      ...c.slots.map((s) => slotExtension(s, 'slot')),
    ],
  };
}

function readClassification(ext: Json): ExtraClassification {
  return compact({
    id: extensionString(ext, 'id'),
    classificationScheme: extensionString(ext, 'classificationScheme'),
    classificationNode: extensionString(ext, 'classificationNode'),
    nodeRepresentation: extensionString(ext, 'nodeRepresentation'),
    name: readText(ext, 'name'),
    slots: extensionsOf(ext, 'slot').flatMap((s) => readSlot(s) ?? []),
  });
}

function externalIdentifierExtension(x: ExtraExternalIdentifier): Extension {
  return {
    url: NODE_EXTENSION.externalIdentifier,
    extension: [...part('id', x.id), ...part('identificationScheme', x.identificationScheme), ...part('value', x.value), ...textParts('name', x.name)],
  };
}

function readExternalIdentifier(ext: Json): ExtraExternalIdentifier | undefined {
  const identificationScheme = extensionString(ext, 'identificationScheme');
  const value = extensionString(ext, 'value');
  if (identificationScheme === undefined || value === undefined) return undefined;
  return compact({ id: extensionString(ext, 'id'), identificationScheme, value, name: readText(ext, 'name') });
}

export function extraExtensions(extra: ExtraMetadata): Extension[] {
  return [...extra.slots.map((s) => slotExtension(s)), ...extra.classifications.map(classificationExtension), ...extra.externalIdentifiers.map(externalIdentifierExtension)];
}

/** The model's `extra` from a resource's extensions (NO_EXTRA when it carries none). */
export function extraOf(resource: Json): ExtraMetadata {
  const slots = slotsOf(resource);
  const classifications = extensionsOf(resource, NODE_EXTENSION.classification).map(readClassification);
  const externalIdentifiers = extensionsOf(resource, NODE_EXTENSION.externalIdentifier).flatMap((e) => readExternalIdentifier(e) ?? []);
  if (slots.length === 0 && classifications.length === 0 && externalIdentifiers.length === 0) return NO_EXTRA;
  return { slots, classifications, externalIdentifiers };
}
