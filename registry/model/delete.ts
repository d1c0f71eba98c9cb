/** ITI-62 Delete Document Set as the registry actor takes it. */

/** What ITI-62 asks to remove: entryUUIDs (rim:ObjectRef/@id), in the order sent. */
export interface DeleteRequest {
  readonly objectRefs: readonly string[];
}
