/**
 * The repository stands alone: a user who clones it and nothing else can install, start, test and
 * read the docs. So no tracked file may name the development machines' drop box beside the clone,
 * nor an absolute path of a machine (a home folder, the workplace's checkout root).
 *
 * The patterns are assembled from pieces so that this file does not match itself.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '../../fixtures/index.js';

const DROP_BOX = ['..', 'shared'].join('/');

/** Absolute path prefixes that only ever belong to one machine. */
const MACHINE_PATHS: readonly RegExp[] = [
  // The folder the clone sits in, whatever it is called on this machine (e.g. a workplace root).
  new RegExp(`(?<![\\w.~-])${escape(`${dirname(REPO_ROOT.replace(/\/$/, ''))}/`)}`),
  new RegExp(`(?<![\\w.~-])/${'home'}/[\\w.-]+/`),
  new RegExp(`(?<![\\w.~-])/${'Users'}/[\\w.-]+/`),
  new RegExp(`(?<![\\w.~-])/${'root'}/`),
  new RegExp(`(?<![\\w.~-])/${'work'}/`),
  /\b[A-Z]:\\(?:Users|home)\\/i,
];

/**
 * Third-party corpora kept byte for byte as their authors published them (their provenance is in
 * each folder's README). The NIST plans carry their authors' own schemaLocation paths; those name
 * nobody's machine of ours and must not be edited. The drop box is still looked for in them.
 */
const VERBATIM = 'fixtures/conformance/';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  return out.toString('utf8').split('\0').filter((f) => f !== '');
}

/** The offending lines of one file's text. */
export function offences(path: string, text: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.includes(DROP_BOX) || line.includes(DROP_BOX.replace('/', '\\'))) found.push(`${path}:${i + 1}: names ${DROP_BOX}`);
    if (path.startsWith(VERBATIM)) continue;
    const machine = MACHINE_PATHS.find((re) => re.test(line));
    if (machine) found.push(`${path}:${i + 1}: an absolute machine path (${machine.source})`);
  }
  return found;
}

describe('the repository stands alone', () => {
  it('no tracked file names the drop box beside the clone or an absolute path of a machine', () => {
    const files = trackedFiles();
    expect(files.length).to.be.greaterThan(100);
    const found: string[] = [];
    for (const f of files) {
      const bytes = readFileSync(join(REPO_ROOT, f));
      if (bytes.includes(0)) continue; // binary (PDF, keys in DER): no paths to read
      found.push(...offences(f, bytes.toString('utf8')));
    }
    expect(found, found.join('\n')).to.deep.equal([]);
  });

  it('the guard itself catches both kinds', () => {
    const parent = dirname(REPO_ROOT.replace(/\/$/, ''));
    expect(offences('README.md', `see ${DROP_BOX}/DESIGN.md`)).to.have.length(1);
    expect(offences('test/x.ts', `readFileSync('${parent}/${basename(REPO_ROOT)}/x')`)).to.have.length(1);
    expect(offences('test/x.ts', `const p = '/${'home'}/alice/data';`)).to.have.length(1);
    expect(offences('test/x.ts', `const p = 'C:\\Users\\bob\\x';`)).to.have.length(1);
    expect(offences(`${VERBATIM}nist-testkit/x.xml`, `file:/${'Users'}/bill/ihe/x.xsd`)).to.deep.equal([]);
    expect(offences(`${VERBATIM}nist-testkit/x.xml`, `${DROP_BOX}/x`)).to.have.length(1);
    expect(offences('connector/x.ts', `import { x } from './${'work'}/y';`)).to.deep.equal([]);
    expect(offences('connector/x.ts', `/var/lib/koblingspunkt/data`)).to.deep.equal([]);
  });
});
