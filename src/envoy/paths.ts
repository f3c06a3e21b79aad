// Where the repository's files are, from src/envoy/ (bin/sergo.js, scripts/envoy.sh, build/*.wasm).
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

export const REPO_ROOT = PACKAGE_ROOT;
export const SERGO_CLI = join(REPO_ROOT, 'bin', 'sergo.js');
export const SERGO_WASM = join(REPO_ROOT, 'build', 'sergo.wasm');
export const EMPTY_WASM = join(REPO_ROOT, 'build', 'empty.wasm');
