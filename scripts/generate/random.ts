/**
 * A small seeded PRNG for the data generator. Every patient gets its own stream, derived from
 * (seed, patient index), so that any patient's submissions can be regenerated without replaying
 * the patients before it: that is what makes a run resumable from a cursor.
 */

/** SplitMix32-style mixing of a 32-bit state; good enough statistical quality for test data. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state. A 32-bit state
 * is not enough here: thousands of patient streams of thousands of draws each would overlap on a
 * 2^32 cycle, and overlapping streams give two patients the same entryUUIDs.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  /** A stream determined by all the given integers (e.g. seed and patient index). */
  constructor(...keys: number[]) {
    let s = 0x12345678;
    const words: number[] = [];
    for (const k of keys) {
      s = mix32(s ^ mix32(k >>> 0) ^ Math.floor(k / 0x1_0000_0000));
      words.push(s);
    }
    this.a = mix32(s ^ 0x243f6a88);
    this.b = mix32((words[0] ?? 0) ^ 0x85a308d3);
    this.c = mix32((words[1] ?? 0) ^ 0x13198a2e ^ keys.length);
    for (let i = 0; i < 15; i++) this.uint32();
  }

  /** Next 32 random bits. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight: `[[item, weight], …]`. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** A random (version 4 shaped) urn:uuid, reproducible from the stream. */
  uuid(): string {
    const a = hex8(this.uint32());
    const b = hex8(this.uint32());
    const c = hex8(this.uint32());
    const d = hex8(this.uint32());
    const variant = ((parseInt(c[0]!, 16) & 0x3) | 0x8).toString(16);
    return `urn:uuid:${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4, 8)}${d}`;
  }

  /**
   * A version 4 shaped urn:uuid whose first 12 hex digits are `major` (8) and `minor` (4), so that
   * uuids made in (major, minor) order are in ascending order, as a string and as the bytes an index
   * compares: the rest is random, from the same four draws as `uuid()`, so a caller switching from
   * `uuid()` draws nothing else differently.
   */
  orderedUuid(major: number, minor: number): string {
    if (!Number.isInteger(major) || major < 0 || major > 0xffff_ffff) throw new RangeError(`orderedUuid major ${major} is not a 32-bit count`);
    if (!Number.isInteger(minor) || minor < 0 || minor > 0xffff) throw new RangeError(`orderedUuid minor ${minor} is not a 16-bit count`);
    this.uint32();
    const b = hex8(this.uint32());
    const c = hex8(this.uint32());
    const d = hex8(this.uint32());
    const variant = ((parseInt(c[0]!, 16) & 0x3) | 0x8).toString(16);
    return `urn:uuid:${hex8(major)}-${minor.toString(16).padStart(4, '0')}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4, 8)}${d}`;
  }

  /** `n` lowercase hex digits. */
  hex(n: number): string {
    let out = '';
    while (out.length < n) out += hex8(this.uint32());
    return out.slice(0, n);
  }
}

/** Two lowercase hex digits per byte value. */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A 32-bit count as 8 lowercase hex digits: what `n.toString(16).padStart(8, '0')` gives, by table.
 * A draw above 2^31 is a heap number to V8, whose `toString(16)` goes through the double-to-radix
 * path (fmod per digit); with six hex conversions per generated object this was ~2 % of the
 * generator's main thread (and a module-level function, not a closure per call: tsx's keepNames
 * costs each closure made a `defineProperty`).
 */
function hex8(n: number): string {
  return HEX2[n >>> 24]! + HEX2[(n >>> 16) & 0xff]! + HEX2[(n >>> 8) & 0xff]! + HEX2[n & 0xff]!;
}
