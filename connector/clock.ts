/**
 * The current time as the audit trail and the log lines write it: ISO 8601 with milliseconds, UTC
 * (what `Date.prototype.toISOString` writes).
 *
 * A busy node writes several log lines and audit events in the same millisecond, and formatting
 * the time is the dearest part of a log line's timestamp or of a new audit event; the text of the
 * last millisecond formatted is kept and given again while the clock still reads it.
 */
let lastMs = Number.NaN;
let lastText = '';

/** `new Date(ms).toISOString()`, formatted once per millisecond. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}
