#!/usr/bin/env node
// Builds the proxy-wasm modules with the pinned AssemblyScript compiler.
//   build/sergo.wasm        release filter (what Envoy/Istio load)
//   build/sergo.debug.wasm  debug filter
//   build/empty.wasm        an empty filter built with the same flags: the benchmark floor
//   build/test/trap.wasm    a test module that traps on every request (test/envoy/failure.test.ts)
//   build/cli/              the CLI bundled (scripts/build-cli.js), what bin/sergo.js runs
// --if-needed skips the build when every output is newer than every source under assembly/ (the
// bundle: under src/).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from './build-cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await buildCli({ ifNeeded: process.argv.includes('--if-needed') });
const outputs = ['build/sergo.wasm', 'build/sergo.debug.wasm', 'build/empty.wasm', 'build/test/trap.wasm'].map((p) => join(root, p));

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

if (process.argv.includes('--if-needed')) {
  const sources = Math.max(newestSource(join(root, 'assembly')), newestSource(join(root, 'test/fixtures/wasm')), statSync(join(root, 'asconfig.json')).mtimeMs);
  if (outputs.every((o) => existsSync(o) && statSync(o).mtimeMs >= sources)) process.exit(0);
}

const asc = join(root, 'node_modules', '.bin', 'asc');
const run = (args) => {
  process.stderr.write(`asc ${args.join(' ')}\n`);
  execFileSync(asc, args, { cwd: root, stdio: 'inherit' });
};
run(['assembly/index.ts', '--config', 'asconfig.json', '--target', 'debug']);
run(['assembly/index.ts', '--config', 'asconfig.json', '--target', 'release']);
run(['assembly/empty.ts', '--config', 'asconfig.json', '--target', 'empty']);
// A module that traps on every request, for the Envoy failure-policy tests (not shipped).
run(['test/fixtures/wasm/trap.ts', '--config', 'asconfig.json', '--target', 'trap-test']);
