// The benchmark's own modules (bench/wasm/*.ts, never shipped), built with the empty module's flags
// into build/bench/ when missing or older than their sources (the module, assembly/abi, asconfig.json).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

const newest = (paths: string[]) => Math.max(...paths.map((p) => statSync(p).mtimeMs));
const under = (dir: string) => readdirSync(dir).map((f) => join(dir, f));

/** The path of build/bench/<name>.wasm, built from bench/wasm/<name>.ts if stale. */
export function benchWasm(name: string): string {
  const source = join(ROOT, 'bench', 'wasm', `${name}.ts`);
  const out = join(ROOT, 'build', 'bench', `${name}.wasm`);
  const sources = newest([source, join(ROOT, 'asconfig.json'), ...under(join(ROOT, 'assembly', 'abi'))]);
  if (existsSync(out) && statSync(out).mtimeMs >= sources) return out;
  mkdirSync(join(ROOT, 'build', 'bench'), { recursive: true });
  execFileSync(join(ROOT, 'node_modules', '.bin', 'asc'), [source, '--config', 'asconfig.json', '--target', 'empty', '-o', out], { cwd: ROOT, stdio: 'inherit' });
  return out;
}
