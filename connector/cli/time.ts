/**
 * Times on the command line: an ISO date or date-time as people type them, or an HL7 DTM as the
 * registry stores them; always turned into a DTM (UTC), the form stored queries and entries use.
 */

/** A DTM from `2026-11-20`, `2026-11-20T10:15[:00][Z]` or a DTM (`20261120101500`); throws an Error naming the option. */
export function parseTime(value: string, option: string): string {
  const v = value.trim();
  if (/^\d{4}(\d{2}){0,5}$/.test(v)) return v;
  const m = /^(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?Z?)?)?$/.exec(v);
  if (!m) throw new Error(`${option} "${value}": expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) or an HL7 DTM such as 20261120101500`);
  return m.slice(1).filter((p) => p !== undefined).join('');
}

/** A DTM as a person reads it: `2026-11-20 10:15:00` (as much as it has). */
export function showTime(dtm: string | undefined): string {
  if (dtm === undefined) return '';
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?/.exec(dtm);
  if (!m) return dtm;
  const [, y, mo, d, h, mi, s] = m;
  let out = y!;
  if (mo) out += `-${mo}`;
  if (d) out += `-${d}`;
  if (h) out += ` ${h}:${mi ?? '00'}`;
  if (s) out += `:${s}`;
  return out;
}
