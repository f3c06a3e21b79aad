#!/usr/bin/env node
// The `sergo` CLI. Runs the bundle build/cli/main.js (scripts/build-cli.js; `npm run build` and `npm
// pack` make it) when it is at least as new as every file under src/, else the TypeScript sources
// through tsx: a fresh clone, or an edit not yet bundled, works without a build step.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'build', 'cli', 'main.js');

function newest(dir) {
  let latest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    latest = Math.max(latest, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

async function load() {
  if (process.env.SERGO_CLI_SOURCES !== '1' && existsSync(bundle) && statSync(bundle).mtimeMs >= newest(join(root, 'src'))) {
    return import(pathToFileURL(bundle).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('../src/cli/main.ts');
}

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
