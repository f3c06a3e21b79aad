// The vendored OpenSergo examples (test/fixtures/opensergo-examples) must stay byte-identical to the
// workspace's ../shared/opensergo-examples, where the team keeps them. Where that folder is absent
// (a bare clone, CI) there is nothing to compare with and the check is skipped with a message.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { examplesDir, upstreamExamplesDir } from '../support/paths.ts';

const list = (root: string) => {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [relative(root, p)];
  });
  return walk(root).sort();
};

const upstream = existsSync(upstreamExamplesDir);
if (!upstream) console.warn(`SKIPPED vendored-examples: ${upstreamExamplesDir} is absent; nothing to compare the vendored copy with.`);

describe.skipIf(!upstream)('vendored OpenSergo examples', () => {
  it('are byte-identical to ../shared/opensergo-examples', () => {
    const ours = list(examplesDir);
    expect(ours).toEqual(list(upstreamExamplesDir));
    for (const f of ours) expect(readFileSync(join(examplesDir, f)).equals(readFileSync(join(upstreamExamplesDir, f))), f).toBe(true);
  });
});

describe('vendored OpenSergo examples (always)', () => {
  it('hold the README with the attribution and every example folder', () => {
    expect(readFileSync(join(examplesDir, 'README.md'), 'utf8')).toContain('Apache License 2.0');
    for (const dir of ['fault-tolerance', 'control-plane-samples', 'sentinel-demo', 'traffic', 'database', 'historic']) {
      expect(readdirSync(join(examplesDir, dir)).length, dir).toBeGreaterThan(0);
    }
  });
});
