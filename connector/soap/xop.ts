/**
 * XOP (XML-binary Optimized Packaging) helpers for transactions: reading binary element content
 * that arrived either as an xop:Include into an MTOM part or inline as base64, and placing
 * xop:Include elements into MTOM replies.
 */
import { randomUUID } from 'node:crypto';
import { NS } from '../../registry/xml/namespaces.js';
import { childElements, descendants, textContent, el, type XmlElement } from '../../registry/xml/tree.js';
import { SoapFault } from './fault.js';
import { normaliseContentId, type Attachment, type Attachments } from './mime.js';

/** A fresh Content-ID (without angle brackets) made only of URL-safe characters, so its cid: URL needs no escaping. */
export function newContentId(): string {
  return `${randomUUID()}@koblingspunkt`;
}

/** RFC 2392 `cid:` URL for a Content-ID: percent-encodes what a URL may not carry, keeps '@'. */
export function cidUrl(contentId: string): string {
  return `cid:${encodeURIComponent(contentId).replace(/%40/g, '@')}`;
}

/** An `xop:Include` element referencing the attachment with this Content-ID. */
export function xopInclude(contentId: string): XmlElement {
  return el(NS.xop, 'Include', { href: cidUrl(contentId) });
}

/** The normalised Content-ID an element's xop:Include child points to, if the element is XOP-packaged. */
export function xopReference(element: XmlElement): string | undefined {
  const include = childElements(element, NS.xop, 'Include')[0];
  if (!include) return undefined;
  return normaliseContentId(include.attrs.href ?? '');
}

/**
 * The binary content of an element of type xs:base64Binary: the referenced MTOM attachment, or the
 * element's base64 text. Throws a Sender fault for a reference to a part that was not sent.
 */
export function binaryContent(element: XmlElement, attachments: Attachments): Buffer {
  const ref = xopReference(element);
  if (ref !== undefined) {
    const a = requireAttachment(ref, attachments);
    // Spooled parts are large by definition; loading one here would defeat the spooling.
    if (a.data === undefined) throw new Error(`attachment cid:${ref} was spooled: read it with attachmentStream`);
    return a.data;
  }
  return Buffer.from(textContent(element).replace(/\s+/g, ''), 'base64');
}

/**
 * The content of an xs:base64Binary element as an attachment: the referenced MTOM part (possibly
 * spooled, never loaded here), or the element's inline base64 text decoded into memory.
 */
export function binaryAttachment(element: XmlElement, attachments: Attachments, contentType = 'application/octet-stream'): Attachment {
  const ref = xopReference(element);
  if (ref !== undefined) return requireAttachment(ref, attachments);
  return { contentType, data: Buffer.from(textContent(element).replace(/\s+/g, ''), 'base64') };
}

function requireAttachment(contentId: string, attachments: Attachments): Attachment {
  const a = attachments.get(contentId);
  if (!a) throw new SoapFault({ code: 'Sender', reason: `xop:Include references cid:${contentId}, which is not a part of the message` });
  return a;
}

/** Normalised Content-IDs of every xop:Include under `root` (in document order). */
export function xopReferences(root: XmlElement): string[] {
  return descendants(root, NS.xop, 'Include').map((i) => normaliseContentId(i.attrs.href ?? ''));
}
