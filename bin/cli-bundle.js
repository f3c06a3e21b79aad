// Where the CLI's bundle is and whether it is current: bin/sergo.js runs it only then, and
// scripts/build-cli.js --if-needed rebuilds it only when it is not.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_DIR = join(PACKAGE_ROOT, 'build', 'cli');
export const BUNDLE_ENTRY = join(BUNDLE_DIR, 'main.js');

function newestUnder(dir) {
  let latest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    latest = Math.max(latest, e.isDirectory() ? newestUnder(p) : statSync(p).mtimeMs);
  }
  return latest;
}

/** The bundle exists and is at least as new as every file under src/. */
export function bundleIsCurrent() {
  return existsSync(BUNDLE_ENTRY) && statSync(BUNDLE_ENTRY).mtimeMs >= newestUnder(join(PACKAGE_ROOT, 'src'));
}
