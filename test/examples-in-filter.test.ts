// Every upstream OpenSergo example that translates loads in the filter and is enforced there:
// translator output → build/sergo.wasm through src/host, as Envoy would receive it.
import { readdirSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { translateFiles } from '../src/translate.ts';
import { example } from './support/paths.ts';
import { startSergo, exchange } from './filter/harness.ts';

const files = ['fault-tolerance', 'control-plane-samples', 'sentinel-demo'].flatMap((dir) =>
  readdirSync(example(dir)).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => `${dir}/${f}`));

/** A concrete request path for a resource key: `{x}` → `1`, a trailing `/**` → `/x`. */
function requestFor(resource: string): [string, string] {
  const colon = resource.indexOf(':');
  const method = colon > 0 && colon < resource.indexOf('/') ? resource.slice(0, colon) : 'GET';
  const path = resource.slice(resource.indexOf('/')).replace(/\{[^}]*\}/g, '1').replace(/\/\*\*$/, '/x');
  return [method, path];
}

let enforced = 0;

describe('OpenSergo examples, translated, in the filter', () => {
  it.each(files)('%s', async (file) => {
    // The combined upstream examples put their rule in namespace prod and the rest nowhere.
    const result = await translateFiles([example(file)], file.includes('combined') ? { namespace: 'prod' } : {});
    if (!result.config) return expect(result.errors.length).toBeGreaterThan(0);   // refused with positions: test/spec
    const { host, started } = startSergo(result.config, { vms: 2, httpCallHandler: async () => ({ headers: [[':status', '200']] }) });
    expect(started).toBe(true);
    expect(host.vms.every((vm) => !vm.failed)).toBe(true);
    for (const rule of result.config.rules) {
      const s = rule.strategy as { kind: string; mode?: string; threshold?: number };
      if (s.kind !== 'RateLimit' || s.mode === 'Global') continue;
      const [method, path] = requestFor(rule.resource);
      const outcomes = Array.from({ length: s.threshold! + 1 }, (_, i) => exchange(host, method, path, 200, i % 2).action);
      expect(outcomes.slice(0, -1).every((a) => a === 'continue'), `${rule.id} admits ${s.threshold}`).toBe(true);
      expect(outcomes.at(-1), `${rule.id} blocks request ${s.threshold! + 1}`).toBe('local-response');
      enforced++;
    }
  });

  it('enforced the Local rate limits of the control-plane and Sentinel samples', () => {
    expect(enforced).toBeGreaterThanOrEqual(3);
  });
});
