#!/usr/bin/env node
// The `sergo` CLI. Runs the bundle build/cli/main.js (scripts/build-cli.js; `npm run build` and `npm
// pack` make it) when it is at least as new as every file under src/, else the TypeScript sources
// through tsx: a fresh clone, or an edit not yet bundled, works without a build step.
import { pathToFileURL } from 'node:url';
import { BUNDLE_ENTRY, bundleIsCurrent } from './cli-bundle.js';

async function load() {
  if (process.env.SERGO_CLI_SOURCES !== '1' && bundleIsCurrent()) {
    return import(pathToFileURL(BUNDLE_ENTRY).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('../src/cli/main.ts');
}

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
