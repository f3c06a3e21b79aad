// Where this package's filter module is: build/sergo.wasm next to src/, in the clone and wherever the
// package is installed (npm pack ships it), never relative to the current directory.
import { fileURLToPath } from 'node:url';

export const SERGO_WASM_PATH = fileURLToPath(new URL('../build/sergo.wasm', import.meta.url));
