/** Shared directory fsyncs (repository/blob/filesystem/directory-sync.ts): who waits for which fsync. */
import { expect } from 'chai';
import { DirectorySyncs } from '../../repository/blob/filesystem/directory-sync.js';

/** A directory fsync the test finishes by hand, recording the order of starts. */
function controlledSyncs() {
  const started: { path: string; finish: (error?: Error) => void }[] = [];
  const syncs = new DirectorySyncs(
    (path) =>
      new Promise<void>((resolve, reject) => {
        started.push({ path, finish: (error) => (error === undefined ? resolve() : reject(error)) });
      }),
  );
  return { syncs, started };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('DirectorySyncs', () => {
  it('starts an fsync at once when none runs, and the caller waits for exactly that one', async () => {
    const { syncs, started } = controlledSyncs();
    let done = false;
    const waiting = syncs.sync('/d').then(() => (done = true));
    expect(started).to.have.length(1);
    await tick();
    expect(done).to.equal(false);
    started[0]!.finish();
    await waiting;
    expect(done).to.equal(true);
  });

  it('makes callers who arrive while one runs share the next fsync, which starts only after it', async () => {
    const { syncs, started } = controlledSyncs();
    const first = syncs.sync('/d');
    const settled: string[] = [];
    const second = syncs.sync('/d').then(() => settled.push('second'));
    const third = syncs.sync('/d').then(() => settled.push('third'));
    expect(started).to.have.length(1);
    started[0]!.finish();
    await first;
    await tick();
    // The running fsync may have begun before their changes: they are not answered by it.
    expect(settled).to.deep.equal([]);
    expect(started).to.have.length(2);
    started[1]!.finish();
    await Promise.all([second, third]);
    expect(settled).to.deep.equal(['second', 'third']);
    expect(started).to.have.length(2);
    // Everything settled: the next caller starts a new one.
    const fourth = syncs.sync('/d');
    expect(started).to.have.length(3);
    started[2]!.finish();
    await fourth;
  });

  it('fails every caller of a failed fsync, and the next caller starts afresh', async () => {
    const { syncs, started } = controlledSyncs();
    const a = syncs.sync('/d');
    const b = syncs.sync('/d');
    started[0]!.finish(new Error('EIO'));
    await a.then(
      () => expect.fail('resolved'),
      (e: Error) => expect(e.message).to.equal('EIO'),
    );
    await tick();
    started[1]!.finish(new Error('EIO again'));
    await b.then(
      () => expect.fail('resolved'),
      (e: Error) => expect(e.message).to.equal('EIO again'),
    );
    const c = syncs.sync('/d');
    expect(started).to.have.length(3);
    started[2]!.finish();
    await c;
  });

  it('keeps directories apart', async () => {
    const { syncs, started } = controlledSyncs();
    const a = syncs.sync('/a');
    const b = syncs.sync('/b');
    expect(started.map((s) => s.path)).to.deep.equal(['/a', '/b']);
    started[1]!.finish();
    await b;
    started[0]!.finish();
    await a;
  });
});
