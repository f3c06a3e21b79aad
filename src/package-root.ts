// The package's root (package.json, build/, src/), found upward from this module: the same answer in
// the clone, in an installed package, and from the bundle under build/cli/ that bin/sergo.js runs
// (a path relative to one module's URL would be wrong once the modules are bundled).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'cli', 'main.ts'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the sergo-wasm package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findRoot();
