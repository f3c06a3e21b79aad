// Reloading: the rule files are watched; a bad edit is reported (file:line:col) and the previous rules
// keep serving; a good edit (in place, or a new file renamed over the old one) takes effect.
import { renameSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  docs, prometheus, request, rule, sample, serveFor, startUpstream, strategy, waitFor, workspace,
  type Served, type TestUpstream, type Workspace, closeAfterEach
} from './helpers.ts';

let ws: Workspace | undefined;
let up: TestUpstream | undefined;
let served: Served | undefined;
closeAfterEach();


const limitOn = (target: string, threshold: string) =>
  docs(
    strategy('RateLimitStrategy', 'rl', `metricType: RequestAmount\nlimitMode: Local\nthreshold: ${threshold}\nstatDurationSeconds: 60`),
    rule('r', target, ['rl']),
  );

const statuses = async (base: string, path: string, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await request(base, path)).status);
  return out;
};

describe('sergo serve: reload', () => {
  it('bad edit → reported, old rules keep serving (state too); good edit → applied', async () => {
    ws = workspace();
    up = await startUpstream();
    const file = ws.file('rules.yaml', limitOn('/a', '1'));
    served = await serveFor({ rules: [file], upstream: up.url });
    const { base, logs } = served;
    expect(await statuses(base, '/a', 2)).toEqual([200, 429]);

    // in-place bad edit: threshold is not a number
    writeFileSync(file, limitOn('/a', 'lots'));
    await waitFor('the bad edit to be reported', () => logs.some((l) => l.includes('reload failed')));
    const error = logs.find((l) => l.includes('spec.threshold'));
    expect(error).toMatch(new RegExp(`^sergo serve: error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: RateLimitStrategy/rl: spec.threshold: `));
    expect(logs.some((l) => l.includes('still serving the previous rules (generation 1)'))).toBe(true);
    expect(await statuses(base, '/a', 1)).toEqual([429]); // the old rule and its count are still there
    expect(await statuses(base, '/b', 3)).toEqual([200, 200, 200]);

    // good edit, written the way editors do it: a new file renamed over the old one
    writeFileSync(`${file}.tmp`, limitOn('/b', '2'));
    renameSync(`${file}.tmp`, file);
    await waitFor('the reload', () => logs.some((l) => l.includes('reloaded:')));
    expect(logs.filter((l) => l.includes('reloaded:'))).toEqual(['sergo serve: info: reloaded: 1 rule for app app (generation 2)\n']);
    expect(await statuses(base, '/a', 3)).toEqual([200, 200, 200]);
    expect(await statuses(base, '/b', 3)).toEqual([200, 200, 429]);
    const text = await prometheus(served);
    expect(sample(text, 'sergo_serve_reloads_total', { result: 'invalid' })).toBe(1);
    expect(sample(text, 'sergo_serve_reloads_total', { result: 'applied' })).toBe(1);
    expect(sample(text, 'sergo_serve_config_generation')).toBe(2);
    expect(served.serve.config().rules.map((r) => r.resource)).toEqual(['/b']);
  });

  it('an edit that changes nothing keeps the configuration (and the rule state)', async () => {
    ws = workspace();
    up = await startUpstream();
    const file = ws.file('rules.yaml', limitOn('/a', '2'));
    served = await serveFor({ rules: [file], upstream: up.url });
    expect(await statuses(served.base, '/a', 1)).toEqual([200]);
    writeFileSync(file, `# a comment\n${limitOn('/a', '2')}`);
    expect(await served.serve.reload()).toBe('unchanged');
    expect(await statuses(served.base, '/a', 2)).toEqual([200, 429]);
  });

  it('--config: a configuration the filter refuses is reported and the previous one keeps serving', async () => {
    ws = workspace();
    up = await startUpstream();
    const good = { version: 1, rules: [{ id: 'x', resource: '/x', strategy: { kind: 'RateLimit', threshold: 1, windowMs: 60000 } }] };
    const file = ws.file('filter.json', JSON.stringify(good));
    served = await serveFor({ config: file, upstream: up.url });
    expect(await statuses(served.base, '/x', 2)).toEqual([200, 429]);
    writeFileSync(file, JSON.stringify({ version: 1, rules: [{ id: 'x', resource: '/x', strategy: { kind: 'Bogus' } }] }));
    await waitFor('the refusal', () => served!.logs.some((l) => l.includes('reload refused by the filter')));
    const line = served.logs.find((l) => l.includes('reload refused by the filter'))!;
    expect(line).toContain('Bogus');
    expect(line).toContain('the previous rules (generation 1) keep serving');
    expect(await statuses(served.base, '/x', 1)).toEqual([429]);
    writeFileSync(file, '{ not json');
    await waitFor('the parse error', () => served!.logs.some((l) => l.includes('not JSON')));
    expect(await statuses(served.base, '/x', 1)).toEqual([429]);
  });

  it('invalid rules at start: startServe fails with the diagnostics', async () => {
    ws = workspace();
    const file = ws.file('rules.yaml', limitOn('/a', 'lots'));
    await expect(serveFor({ rules: [file], upstream: 'http://127.0.0.1:9' })).rejects.toThrow(/rules\.yaml:\d+:\d+: RateLimitStrategy\/rl: spec\.threshold/);
  });
});
