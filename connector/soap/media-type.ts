/**
 * Content-Type header values (RFC 9110 §8.3.1): `type/subtype; name=value; name="quoted; value"`.
 *
 * Peers differ in quoting (CXF quotes `start`, Axis2 sometimes not the boundary, .NET puts spaces
 * around `=`), so parameters are read leniently: quoted or token values, names case-insensitive.
 */
export interface MediaType {
  /** `type/subtype`, lower case. */
  readonly type: string;
  /** Parameters by lower-case name; values unquoted, case kept. */
  readonly params: Readonly<Record<string, string>>;
}

export function parseMediaType(value: string | undefined): MediaType {
  const text = value ?? '';
  let i = text.indexOf(';');
  if (i === -1) i = text.length;
  const type = text.slice(0, i).trim().toLowerCase();
  const params: Record<string, string> = {};
  let pos = i;
  while (pos < text.length) {
    // At a ';' (or garbage): skip separators and whitespace.
    while (pos < text.length && (text[pos] === ';' || text[pos] === ' ' || text[pos] === '\t')) pos++;
    if (pos >= text.length) break;
    const eq = text.indexOf('=', pos);
    const semi = text.indexOf(';', pos);
    if (eq === -1 || (semi !== -1 && semi < eq)) {
      // A parameter without a value: skip it.
      pos = semi === -1 ? text.length : semi;
      continue;
    }
    const name = text.slice(pos, eq).trim().toLowerCase();
    pos = eq + 1;
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
    let v = '';
    if (text[pos] === '"') {
      pos++;
      const close = text.indexOf('"', pos);
      const escape = text.indexOf('\\', pos);
      if (close !== -1 && (escape === -1 || escape > close)) {
        // The common case (every request's action): nothing escaped, one slice.
        v = text.slice(pos, close);
        pos = close;
      } else {
        while (pos < text.length && text[pos] !== '"') {
          if (text[pos] === '\\' && pos + 1 < text.length) pos++;
          v += text[pos];
          pos++;
        }
      }
      pos++; // closing quote
      const next = text.indexOf(';', pos);
      pos = next === -1 ? text.length : next;
    } else {
      const end = text.indexOf(';', pos);
      v = text.slice(pos, end === -1 ? text.length : end).trim();
      pos = end === -1 ? text.length : end;
    }
    // The first occurrence wins, like most HTTP stacks.
    if (name !== '' && !Object.hasOwn(params, name)) params[name] = v;
  }
  return { type, params };
}

/** A parameter value quoted for a header (always quoted: safe for every value we write). */
export function quoteParam(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
