#!/usr/bin/env node
// `npm start`: builds build/sergo.wasm if needed, then runs the demo (src/demo/main.ts): a sample
// upstream, `sergo serve` with examples/rules.yaml in front of it, traffic and a live table.
//   npm start -- --duration 5        a shorter run
//   npm start -- --envoy             the same rules in real Envoy (scripts/envoy.sh installs it)
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.js'), '--if-needed'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) {
  process.stderr.write('npm start: building build/sergo.wasm failed\n');
  process.exit(build.status ?? 1);
}

register();
const { demoMain } = await import('../src/demo/main.ts');
process.exitCode = await demoMain(process.argv.slice(2));
// Everything the demo started is closed by now, so the process ends by itself. Should a stray handle
// keep it alive, say so (the tests look for this line) and exit anyway.
setTimeout(() => {
  process.stderr.write('npm start: handles still open 2 s after the demo ended; exiting\n');
  process.exit();
}, 2000).unref();
