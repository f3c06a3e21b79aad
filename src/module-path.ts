// Where this package's filter module is: build/sergo.wasm next to src/, in the clone and wherever the
// package is installed (npm pack ships it), never relative to the current directory.
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root.ts';

export const SERGO_WASM_PATH = join(PACKAGE_ROOT, 'build', 'sergo.wasm');
