/**
 * Short-lived byte strings of a few KB (a LeafClass element on its way into an answer) cut from
 * shared slabs, one view each, rather than a Buffer (and ArrayBuffer) of their own: memory outside
 * the heap per ~5 KB string, which the garbage collector must account for and sweep, cost as much
 * as writing the element on a cold answer (serialize.ts has the figures). A slab lives as long as
 * any view cut from it, so views meant to last should be copied out (serialize.ts does, for a
 * fragment written a second time).
 *
 * 64 KB slabs: below glibc's threshold (128 KB) for giving an allocation pages of its own, whose
 * first touch faults; with 256 KB slabs a cold miss cost 42.9–43.7 against 39.3–39.8 µs per entry
 * (BENCHMARKS.md, issue 19, eighth session). A string above a quarter of a slab gets a Buffer of
 * its own.
 */
export class ByteSlab {
  private slab = Buffer.allocUnsafeSlow(0);
  private used = 0;

  constructor(private readonly slabBytes = 64 * 1024) {}

  /** `text` as UTF-8 bytes. */
  text(text: string): Buffer {
    const length = Buffer.byteLength(text, 'utf8');
    if (length > this.slabBytes / 4) return Buffer.from(text, 'utf8');
    const start = this.reserve(length);
    this.used += this.slab.write(text, start, length, 'utf8');
    return this.slab.subarray(start, this.used);
  }

  /** The parts' bytes, joined as they are copied. */
  copy(parts: readonly Uint8Array[]): Buffer {
    let length = 0;
    for (const p of parts) length += p.length;
    if (length > this.slabBytes / 4) return Buffer.concat(parts, length);
    const start = this.reserve(length);
    for (const p of parts) {
      this.slab.set(p, this.used);
      this.used += p.length;
    }
    return this.slab.subarray(start, this.used);
  }

  /** Where `length` bytes go in the current slab (a new one when they do not fit). */
  private reserve(length: number): number {
    if (this.used + length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    return this.used;
  }
}

/** An arena's blocks: the size of a slab, for the same reason (below glibc's threshold for pages of its own). */
const ARENA_BLOCK_BYTES = 64 * 1024;
/** Blocks kept for the next arenas, at most (16 MB): more in flight than that are allocated and left to the collector. */
const POOLED_BLOCKS = 256;
const freeBlocks: Buffer[] = [];

/**
 * Memory for one answer's bytes, given back when the answer has been sent (`release`), so that
 * the next answers write into the same blocks instead of allocating memory outside the heap per
 * answer. V8 counts such memory and collects when its allocation outruns the heap's: on a cold
 * FindDocuments answer (~36 entries, each a ~6 KB element inflated from the store) the per-answer
 * allocation set the pace of the node's collections, a quarter of the cold line's CPU
 * (BENCHMARKS.md, issue 19, tenth session).
 *
 * Its views must not outlive the answer: an arena is made by the code that sends the answer, its
 * views go only into that answer's buffers (serialize.ts `serializeXmlChunks`, which writes
 * deferred fragments into it), and it is released once the answer has been handed to the kernel
 * (the response's `finish`). An arena that is never released is simply collected.
 */
export class Arena {
  private blocks: Buffer[] = [];
  private block: Buffer | undefined;
  private used = 0;
  private released = false;

  /** The parts' bytes, joined as they are copied. */
  copy(parts: readonly Uint8Array[]): Buffer {
    if (this.released) throw new Error('an arena is used after its release');
    let length = 0;
    for (const p of parts) length += p.length;
    if (length > ARENA_BLOCK_BYTES / 4) return Buffer.concat(parts, length);
    if (this.block === undefined || this.used + length > this.block.length) {
      this.block = freeBlocks.pop() ?? Buffer.allocUnsafeSlow(ARENA_BLOCK_BYTES);
      this.blocks.push(this.block);
      this.used = 0;
    }
    const start = this.used;
    for (const p of parts) {
      this.block.set(p, this.used);
      this.used += p.length;
    }
    return this.block.subarray(start, this.used);
  }

  /** Whether the arena holds any blocks (most answers write nothing into theirs). */
  get holdsBlocks(): boolean {
    return this.blocks.length > 0;
  }

  /** Nothing reads the arena's views any more: its blocks go to the next arenas. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const b of this.blocks) if (freeBlocks.length < POOLED_BLOCKS) freeBlocks.push(b);
    this.blocks = [];
    this.block = undefined;
  }
}
