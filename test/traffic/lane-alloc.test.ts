// The lanes' request path never allocates (docs/filter-config.md, "Lanes"): in the debug build's
// text (build/sergo.debug.wat, names kept), no function reachable from laneRequest calls the
// runtime's allocator. The same walk from the configuration decoder finds it, so the check can fail.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/paths.ts';

const wat = readFileSync(join(repoRoot, 'build', 'sergo.debug.wat'), 'utf8');
const bodies = new Map<string, string>();
for (const m of wat.matchAll(/\n \(func (\$\S+)([\s\S]*?)(?=\n \(func |\n \(export |\n \(data |$)/g)) bodies.set(m[1]!, m[2]!);

/** Allocating functions of the runtime that `root` can reach. */
function allocationsFrom(root: string): string[] {
  const seen = new Set<string>();
  const found = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const [, callee] of (bodies.get(f) ?? '').matchAll(/call (\$[^\s)]+)/g)) {
      if (/^\$~lib\/rt\/(\w+\/)?__(new|renew|alloc|realloc)|^\$~lib\/rt\/tlsf\/|heap\.(re)?alloc/.test(callee!)) found.add(callee!);
      stack.push(callee!);
    }
  }
  return [...found];
}

describe('lanes allocate nothing per request', () => {
  it('the walk sees the functions', () => {
    expect(bodies.has('$assembly/lane/lane/laneRequest')).toBe(true);
    expect(allocationsFrom('$assembly/lane/config/decodeLanes').length).toBeGreaterThan(0);
  });

  it('no allocator is reachable from laneRequest', () => {
    expect(allocationsFrom('$assembly/lane/lane/laneRequest')).toEqual([]);
  });
});
