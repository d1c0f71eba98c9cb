/**
 * Shared directory fsyncs. A new name in a directory (a staged document renamed into place) is
 * durable only once the directory is fsynced, and every ITI-41 stages into the same directory: with
 * 32 uploads in flight, 32 fsyncs of `staging/` each took a libuv pool thread, three system calls
 * (open, fsync, close) and a journal commit. One fsync covers every change made to the directory
 * before it started, so concurrent callers share them, as a group commit shares the WAL's:
 *
 * - no fsync of the directory is running: one starts now, and the caller waits for it (everything
 *   the caller did before calling is covered);
 * - one is running: it may have started before the caller's change, so the caller waits for the
 *   next one, which starts when the running one ends and is shared by everyone who asked meanwhile.
 *
 * So under load a directory sees at most one fsync in flight and one waiting, whatever the number
 * of callers, and no caller is answered before an fsync that began after its change has completed.
 * A failure goes to every caller of that fsync (each then fails its own operation, as before).
 */
export type SyncDirectory = (path: string) => Promise<void>;

interface DirectoryState {
  /** The fsync in flight. */
  readonly running: Promise<void>;
  /** The fsync that starts when `running` ends, shared by those who asked after it started. */
  next: Promise<void> | undefined;
}

export class DirectorySyncs {
  private readonly states = new Map<string, DirectoryState>();

  constructor(private readonly syncDirectory: SyncDirectory) {}

  /** Resolves once an fsync of `path` that started after this call has completed. */
  sync(path: string): Promise<void> {
    const state = this.states.get(path);
    if (state === undefined) return this.start(path).running;
    state.next ??= state.running.then(
      () => this.start(path).running,
      () => this.start(path).running,
    );
    return state.next;
  }

  private start(path: string): DirectoryState {
    const running = this.syncDirectory(path);
    const state: DirectoryState = { running, next: undefined };
    this.states.set(path, state);
    const settled = (): void => {
      // Registered before any `next`: when someone asked for a next fsync, it replaces this state.
      if (this.states.get(path) === state && state.next === undefined) this.states.delete(path);
    };
    running.then(settled, settled);
    return state;
  }
}
