// Where the repository's files are, from src/envoy/ (bin/sergo.js, scripts/envoy.sh, build/*.wasm).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SERGO_CLI = join(REPO_ROOT, 'bin', 'sergo.js');
export const SERGO_WASM = join(REPO_ROOT, 'build', 'sergo.wasm');
export const EMPTY_WASM = join(REPO_ROOT, 'build', 'empty.wasm');
