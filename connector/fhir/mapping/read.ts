/**
 * Reading untrusted JSON without throwing: every accessor answers undefined (or an empty list) when
 * the value is missing or of the wrong type. The FHIR → model mappings read through these, so a
 * resource that passed no structural validation still maps without an exception; what it lacks
 * shows up as missing attributes, which the registry's rules then name.
 */

export type Json = unknown;

export function isObject(value: Json): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: Json): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: Json): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The member of an object, or undefined. */
export function get(value: Json, key: string): Json {
  return isObject(value) ? value[key] : undefined;
}

export function getStr(value: Json, key: string): string | undefined {
  return str(get(value, key));
}

/** An array member as an array (a single non-array value is not promoted: FHIR JSON never does that). */
export function getArr(value: Json, key: string): readonly Json[] {
  const v = get(value, key);
  return Array.isArray(v) ? v : [];
}

export function getObj(value: Json, key: string): Record<string, unknown> | undefined {
  const v = get(value, key);
  return isObject(v) ? v : undefined;
}

/** The strings of an array member, others left out. */
export function getStrings(value: Json, key: string): string[] {
  return getArr(value, key).flatMap((v) => (typeof v === 'string' ? [v] : []));
}

/** The extensions with this url on an element (its `extension` member). */
export function extensionsOf(element: Json, url: string): Record<string, unknown>[] {
  return getArr(element, 'extension').filter((e): e is Record<string, unknown> => isObject(e) && e['url'] === url);
}

/** The first extension whose url matches case-insensitively: peers spell MHD's extension ids differently (ihe-HomeCommunityId / ihe-homeCommunityId). */
export function extensionLike(element: Json, url: string): Record<string, unknown> | undefined {
  const lower = url.toLowerCase();
  return getArr(element, 'extension').find((e): e is Record<string, unknown> => isObject(e) && typeof e['url'] === 'string' && e['url'].toLowerCase() === lower);
}

/** The valueString of every extension with this url, in order. */
export function extensionStrings(element: Json, url: string): string[] {
  return extensionsOf(element, url).flatMap((e) => (typeof e['valueString'] === 'string' ? [e['valueString']] : []));
}

export function extensionString(element: Json, url: string): string | undefined {
  return extensionStrings(element, url)[0];
}

/** Finds a resource outside the resource being read (in the Bundle), by its reference string. */
export type ResourceLookup = (reference: string) => Record<string, unknown> | undefined;

/**
 * The resource a Reference element points at: `#id` among the container's contained resources (a
 * contained resource's own `#id` references also mean its container's, FHIR R4 references.html),
 * any other reference through `lookup`. Undefined when it cannot be found here.
 */
export function resolveReference(reference: Json, container: Json, lookup?: ResourceLookup): Record<string, unknown> | undefined {
  const ref = getStr(reference, 'reference');
  if (ref === undefined) return undefined;
  if (ref.startsWith('#')) {
    const id = ref.slice(1);
    return getArr(container, 'contained').find((r): r is Record<string, unknown> => isObject(r) && r['id'] === id);
  }
  return lookup?.(ref);
}
