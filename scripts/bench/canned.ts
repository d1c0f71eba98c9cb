/** What bench.ts and the ceiling process (server.ts) agree on: the canned answers and how a request names one. */

/** Canned answers of the ceiling, by the x-bench-key request header. */
export interface CannedResponses {
  readonly [key: string]: { readonly contentType: string; readonly base64: string };
}

export const BENCH_KEY_HEADER = 'x-bench-key';
export const CEILING_PATH = '/ceiling';
