/** What bench.ts and the ceiling process (server.ts) agree on: the canned answers and how a request names one. */

/** One answer of the ceiling: held in memory (base64), or streamed from a file (large documents). */
export type CannedAnswer = { readonly contentType: string } & ({ readonly base64: string } | { readonly file: string });

/** Canned answers of the ceiling, by the x-bench-key request header. */
export interface CannedResponses {
  readonly [key: string]: CannedAnswer;
}

/** What a ceiling process is told to do (a JSON file, its one argument). */
export interface CeilingSpec {
  /**
   * 'buffer': read the whole request body into memory (express.raw), as a small request is read;
   * 'file': stream it to a file while hashing it (SHA-1), the least a repository does with a document.
   */
  readonly requestBody: 'buffer' | 'file';
  readonly answers: CannedResponses;
}

export const BENCH_KEY_HEADER = 'x-bench-key';
export const CEILING_PATH = '/ceiling';
/** The bench node's homeCommunityId: its responding gateway (ITI-38) answers for it. */
export const BENCH_HOME_COMMUNITY_ID = 'urn:oid:2.16.578.1.12.4.5.100.1';
