/**
 * The layering of the product code (connector → repository → registry, no product import of test/,
 * scripts/ or fixtures/), as the rules in .dependency-cruiser.cjs state it, checked with
 * dependency-cruiser over the real sources so that `npm test` fails on a violation.
 *
 * A rule set can pass for the wrong reason (a path pattern that never matches, imports that do not
 * resolve), so the rules are also run over a tiny tree that breaks each of them on purpose.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { cruise, type ICruiseOptions, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { REPO_ROOT } from '../../fixtures/index.js';

const LAYERS = ['connector', 'registry', 'repository'] as const;

/** The project's rule set, anchored at `baseDir` (the config's relative paths would follow the cwd otherwise). */
async function options(baseDir: string): Promise<ICruiseOptions> {
  const loaded = await extractDepcruiseOptions(join(REPO_ROOT, '.dependency-cruiser.cjs'));
  return { ...loaded, baseDir, tsConfig: { fileName: join(REPO_ROOT, 'tsconfig.json') } };
}

async function run(baseDir: string): Promise<ICruiseResult> {
  const tsConfig = extractTSConfig(join(REPO_ROOT, 'tsconfig.json'));
  const { output } = await cruise([...LAYERS], await options(baseDir), {}, { tsConfig });
  if (typeof output === 'string') throw new Error(`dependency-cruiser answered with text, not a result: ${output.slice(0, 300)}`);
  return output;
}

/** One line per violation, with the import as written so that it can be found in the file. */
const describeViolation = (v: IViolation): string =>
  `${v.rule.name}: ${v.from} → ${v.to}${v.unresolvedTo && v.unresolvedTo !== v.to ? ` (import '${v.unresolvedTo}')` : ''}`;

describe('layering of the product code (dependency-cruiser)', function () {
  // One cruise over the whole product parses every module with the TypeScript compiler.
  this.timeout(120_000);

  it('connector → repository → registry, and no product import of test/, scripts/ or fixtures/', async () => {
    const result = await run(REPO_ROOT);
    const violations = result.summary.violations.map(describeViolation);
    expect(violations, `layering violations:\n${violations.join('\n')}`).to.deep.equal([]);

    // The pass means something only if the cruise saw the layers and the edges between them.
    const sources = result.modules.map((m) => m.source);
    for (const layer of LAYERS) expect(sources.filter((s) => s.startsWith(`${layer}/`)).length, layer).to.be.greaterThan(5);
    const edges = result.modules.flatMap((m) => m.dependencies.map((d) => `${m.source.split('/')[0]}→${d.resolved.split('/')[0]}`));
    expect(edges).to.include.members(['connector→registry', 'connector→repository', 'repository→registry']);
  });

  it('the rules catch each kind of violation (a tree that breaks them on purpose)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kp-layering-'));
    const file = (path: string, text: string): void => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    try {
      file('connector/wire.ts', `import { SAMPLE } from '../fixtures/index.js';\nexport const wire = SAMPLE;\n`);
      file('repository/actor.ts', `import { wire } from '../connector/wire.js';\nexport const actor = wire;\n`);
      file('registry/core.ts', `import { actor } from '../repository/actor.js';\nexport const core = actor;\n`);
      file('registry/model.ts', `import type { Helper } from '../test/helper.js';\nexport type Model = Helper;\n`);
      file('connector/cli.ts', `import { demo } from '../scripts/demo.js';\nimport { gone } from './gone.js';\nexport const cli = [demo, gone];\n`);
      file('test/helper.ts', `export type Helper = string;\n`);
      file('scripts/demo.ts', `export const demo = 1;\n`);
      file('fixtures/index.ts', `export const SAMPLE = 1;\n`);
      const found = (await run(dir)).summary.violations.map(describeViolation).sort();
      expect(found).to.deep.equal([
        "product-not-on-dev-code: connector/cli.ts → scripts/demo.ts (import '../scripts/demo.js')",
        "product-not-on-dev-code: connector/wire.ts → fixtures/index.ts (import '../fixtures/index.js')",
        "product-not-on-dev-code: registry/model.ts → test/helper.ts (import '../test/helper.js')",
        "registry-is-the-core: registry/core.ts → repository/actor.ts (import '../repository/actor.js')",
        "repository-below-connector: repository/actor.ts → connector/wire.ts (import '../connector/wire.js')",
        'resolvable: connector/cli.ts → ./gone.js',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
