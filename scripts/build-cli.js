#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts and everything it imports from src/) into build/cli/, one chunk per
// command, so that bin/sergo.js starts without compiling TypeScript (tsx costs ~0.3 s of CPU before
// the first line of sergo runs). Packages stay external (node_modules). bin/sergo.js runs the bundle
// only when it is at least as new as every file under src/; otherwise it runs the sources.
// --if-needed skips the bundle when it is already that new.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_DIR as outdir, PACKAGE_ROOT as root, bundleIsCurrent } from '../bin/cli-bundle.js';

export async function buildCli({ ifNeeded = false } = {}) {
  if (ifNeeded && bundleIsCurrent()) return;
  const { build } = await import('esbuild');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    keepNames: true,
    logLevel: 'warning',
  });
  process.stderr.write(`esbuild src/cli/main.ts -> build/cli/\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli({ ifNeeded: process.argv.includes('--if-needed') });
