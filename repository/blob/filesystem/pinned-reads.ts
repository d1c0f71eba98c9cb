/**
 * Reads that a removal (ITI-86) must not break while a retrieve (ITI-43, ITI-39) is answering.
 *
 * `open` hands out a blob whose bytes are streamed later: after the policy decision and the audit
 * record, and after the earlier documents of the same response. Its size is already promised (the
 * MTOM package's Content-Length), so the bytes must still be there when its stream starts. On
 * POSIX an unlinked file stays readable through a descriptor opened before the unlink, so a
 * removal first gives every read of the blob that has not opened the file yet a descriptor of its
 * own (it "pins" it), waits for the reads that are opening it right then, and only then unlinks.
 *
 * Descriptors are taken only when a removal meets a read: a retrieve of a hundred documents does
 * not hold a hundred descriptors, and a document the policy keeps back (never streamed) holds none.
 * A read that is never streamed is forgotten after `graceMs`, closing its pin if it got one.
 *
 * Windows cannot delete an open file; there the pin makes the removal fail, which the repository
 * answers as a per-document error. The node's supported platforms are POSIX.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** How long a blob handed out by `open` and not streamed keeps its claim on the bytes. */
export const READ_GRACE_MS = 10 * 60 * 1000;

/** Bytes read per `_read` from a descriptor (as fs.ReadStream reads). */
const READ_CHUNK_BYTES = 64 * 1024;

/** One read of one blob, from `open` until its stream has the file open (or the grace ran out). */
export interface PendingRead {
  /** A descriptor a removal opened for this read before it unlinked the file. */
  pinned?: FileHandle;
  /** Set while the stream opens the file: a removal waits for it instead of pinning. */
  opening?: Promise<void>;
  timer?: NodeJS.Timeout;
}

export class PinnedReads {
  private readonly reads = new Map<string, Set<PendingRead>>();
  /** The removal of each path in progress (settled: never rejects). */
  private readonly removals = new Map<string, Promise<void>>();

  constructor(private readonly graceMs: number = READ_GRACE_MS) {}

  /**
   * Registers a read of `path` before the caller checks that the file exists, and waits for a
   * removal of it already under way: a removal that started earlier either finishes first (the
   * caller then finds the file gone) or sees this read and pins it.
   */
  async begin(path: string): Promise<PendingRead> {
    const read: PendingRead = {};
    let set = this.reads.get(path);
    if (!set) this.reads.set(path, (set = new Set()));
    set.add(read);
    read.timer = setTimeout(() => this.release(path, read), this.graceMs);
    // A pending claim must not keep a stopping process alive.
    read.timer.unref();
    await this.removals.get(path);
    return read;
  }

  /** Forgets a read (its file is absent, it has its own descriptor, or its grace ran out); closes an unused pin. */
  release(path: string, read: PendingRead): void {
    if (read.timer !== undefined) clearTimeout(read.timer);
    const set = this.reads.get(path);
    if (set?.delete(read) && set.size === 0) this.reads.delete(path);
    const pinned = read.pinned;
    read.pinned = undefined;
    void pinned?.close().catch(() => undefined);
  }

  /** The bytes of a begun read: through the descriptor a removal pinned, else from the file. */
  stream(path: string, read: PendingRead): Readable {
    if (read.timer !== undefined) clearTimeout(read.timer);
    const acquired = this.acquire(path, read);
    read.opening = acquired.then(
      () => undefined,
      () => undefined,
    );
    // Once the stream has its descriptor the read needs nothing more from a removal.
    void read.opening.then(() => this.release(path, read));
    return new DescriptorStream(acquired);
  }

  /**
   * Runs `remove` (the unlink) once every read of `path` has a descriptor: pinned here, or opened
   * by its own stream. Removals of one path run one after the other.
   */
  async removing<T>(path: string, remove: () => Promise<T>): Promise<T> {
    const previous = this.removals.get(path);
    const run = (async () => {
      await previous;
      await Promise.all([...(this.reads.get(path) ?? [])].map((read) => read.opening ?? this.pin(path, read)));
      return remove();
    })();
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.removals.set(path, settled);
    try {
      return await run;
    } finally {
      if (this.removals.get(path) === settled) this.removals.delete(path);
    }
  }

  /** Forgets every read (the store closes); pins are closed. */
  releaseAll(): void {
    for (const [path, set] of [...this.reads]) for (const read of [...set]) this.release(path, read);
  }

  /**
   * Opens a descriptor for a read. Best effort: when it cannot be opened (no descriptors left) the
   * removal goes on, and that read fails when it starts rather than holding the removal up.
   */
  private async pin(path: string, read: PendingRead): Promise<void> {
    if (read.pinned !== undefined) return;
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      return;
    }
    // Released meanwhile (it opened the file itself, or its grace ran out): the pin is not needed.
    if (!this.reads.get(path)?.has(read) || read.pinned !== undefined) {
      await handle.close().catch(() => undefined);
      return;
    }
    read.pinned = handle;
  }

  private async acquire(path: string, read: PendingRead): Promise<FileHandle> {
    const take = (): FileHandle | undefined => {
      const h = read.pinned;
      read.pinned = undefined;
      return h;
    };
    const pinned = take();
    if (pinned !== undefined) return pinned;
    try {
      return await open(path, 'r');
    } catch (e) {
      // A removal that began while the file was being opened pinned this read before unlinking.
      const late = take();
      if (late !== undefined) return late;
      throw e;
    }
  }
}

/**
 * A byte stream over a descriptor that arrives later (the pin, or the file opened by path). The
 * descriptor is the stream's own: closed when the stream ends, fails or is destroyed.
 */
class DescriptorStream extends Readable {
  private handle: FileHandle | undefined;
  private position = 0;

  constructor(private readonly acquired: Promise<FileHandle>) {
    super({ highWaterMark: READ_CHUNK_BYTES });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.acquired.then(
      (handle) => {
        this.handle = handle;
        callback();
      },
      (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
    );
  }

  override _read(size: number): void {
    const buffer = Buffer.allocUnsafe(Math.max(size, READ_CHUNK_BYTES));
    this.handle!.read(buffer, 0, buffer.byteLength, this.position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          this.push(null);
          return;
        }
        this.position += bytesRead;
        this.push(buffer.subarray(0, bytesRead));
      },
      (e: unknown) => this.destroy(e instanceof Error ? e : new Error(String(e))),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Runs after _construct has finished, so the descriptor is here if it was ever acquired.
    const handle = this.handle;
    this.handle = undefined;
    if (handle === undefined) {
      callback(error);
      return;
    }
    handle.close().then(
      () => callback(error),
      () => callback(error),
    );
  }
}
