// Where things are, from the repository root (tests run from any working directory).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The OpenSergo examples live next to the repository, at ../shared/opensergo-examples. */
export const examplesDir = resolve(repoRoot, '../shared/opensergo-examples');

export function example(relativePath: string): string {
  return resolve(examplesDir, relativePath);
}

/** The same path relative to the repository root, as a user at the root would type it. */
export function exampleArg(relativePath: string): string {
  return `../shared/opensergo-examples/${relativePath}`;
}
