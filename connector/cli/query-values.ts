/**
 * Stored-query parameter values (ITI TF-2a 3.18.4.1.2.3.5): strings in single quotes with quotes
 * doubled, lists in parentheses.
 */

export function quoted(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A list of strings as one parameter value: `('a','b')`. */
export function storedQueryString(values: readonly string[]): string {
  return `(${values.map(quoted).join(',')})`;
}
