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
