/**
 * The installed package's root folder (the one holding package.json, xsd/ and fixtures/), found by
 * walking up from this module: the node runs from the sources under tsx and from dist/ after
 * `npm install` builds it, and the data files it serves (the WSDLs and schemas in xsd/) are not
 * copied into dist/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'xsd'))) return dir;
    if (dirname(dir) === dir) throw new Error(`koblingspunkt's package root (package.json beside xsd/) was not found above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
