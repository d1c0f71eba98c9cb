/**
 * The bench measures the node as `npm start` runs it: the V8 flags the bench gives its children
 * must be the ones package.json's start script gives the node.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { NODE_RUNTIME_FLAGS } from '../../scripts/bench/children.js';

describe('bench runtime flags', () => {
  it('are exactly the Node flags of `npm start`', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
    const flags = pkg.scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
    expect(flags).to.deep.equal([...NODE_RUNTIME_FLAGS]);
  });
});
