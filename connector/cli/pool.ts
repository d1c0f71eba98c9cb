/** A small work pool: `import` sends several files at once, never more than asked. */

/** Runs `work` over the items, at most `limit` at a time; the first error that escapes stops the rest. */
export async function inPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let stopped: unknown;
  const worker = async (): Promise<void> => {
    while (stopped === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (e) {
        stopped ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (stopped !== undefined) throw stopped;
}
