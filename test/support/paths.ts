// Where things are, from the repository root (tests run from any working directory).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * The OpenSergo project's example documents, vendored byte for byte (with their README, which holds
 * the attribution) from the workspace's ../shared/opensergo-examples so the suite runs on any clean
 * checkout. test/spec/vendored-examples.test.ts keeps the copy identical to the source when the
 * source is present.
 */
export const examplesDir = resolve(repoRoot, 'test/fixtures/opensergo-examples');

/** Where the examples came from: next to the repository, in the team's workspace. */
export const upstreamExamplesDir = resolve(repoRoot, '../shared/opensergo-examples');

export function example(relativePath: string): string {
  return resolve(examplesDir, relativePath);
}

/** The same path relative to the repository root, as a user at the root would type it. */
export function exampleArg(relativePath: string): string {
  return `test/fixtures/opensergo-examples/${relativePath}`;
}
