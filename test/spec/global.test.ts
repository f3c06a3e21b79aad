// RateLimitStrategy limitMode Global: the translator extensions (failOpen, batch), the top-level
// rateLimitService, the reference-service window warning, and that the filter accepts the result.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFilterConfig } from '../../src/emit/filter.ts';
import { compileModule, ManualClock, ProxyWasmHost, type HttpCallRequest } from '../../src/host/index.ts';
import { join, rateLimit, rule } from '../support/documents.ts';
import { repoRoot } from '../support/paths.ts';
import { schemaErrors } from '../support/schema.ts';
import { translateInline } from '../support/translate.ts';
import { positionOf } from '../support/workspace.ts';

const GLOBAL = (extra = '', window = 'statDurationSeconds: 1') => `metricType: RequestAmount\nlimitMode: Global\nthreshold: 100\n${window}${extra}`;

describe('limitMode Global', () => {
  it('emits exactly the documented JSON: mode, failOpen and batch explicit, the service before the rules', async () => {
    const result = await translateInline(join(rateLimit('g', GLOBAL()), rule('r', 'shop', ['GET:/items'], ['g'])));
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(renderFilterConfig(result.config!)).toBe(`{
  "version": 1,
  "rateLimitService": {
    "cluster": "sergo_rls",
    "authority": "sergo_rls",
    "path": "/json",
    "domain": "sergo",
    "timeoutMs": 20
  },
  "rules": [
    {
      "id": "default/shop/r/RateLimitStrategy/g@GET:/items",
      "resource": "GET:/items",
      "strategy": {
        "kind": "RateLimit",
        "mode": "Global",
        "threshold": 100,
        "windowMs": 1000,
        "failOpen": false,
        "batch": 1
      }
    }
  ]
}
`);
    expect(schemaErrors(result.config)).toEqual([]);
  });

  it('reads failOpen and batch', async () => {
    const result = await translateInline(join(rateLimit('g', GLOBAL('\nfailOpen: true\nbatch: 10')), rule('r', 'shop', ['/a'], ['g'])));
    expect(result.errors).toEqual([]);
    expect(result.config?.rules[0]?.strategy).toEqual({ kind: 'RateLimit', mode: 'Global', threshold: 100, windowMs: 1000, failOpen: true, batch: 10 });
    expect(schemaErrors(result.config)).toEqual([]);
  });

  it('accepts a batch equal to the threshold, and batch 1 with threshold 0 (block all)', async () => {
    const equal = await translateInline(join(rateLimit('g', GLOBAL('\nbatch: 100')), rule('r', 'shop', ['/a'], ['g'])));
    expect(equal.errors).toEqual([]);
    const zero = await translateInline(join(rateLimit('g', 'metricType: RequestAmount\nlimitMode: Global\nthreshold: 0\nstatDurationSeconds: 1\nbatch: 1'), rule('r', 'shop', ['/a'], ['g'])));
    expect(zero.errors).toEqual([]);
    expect(zero.config?.rules[0]?.strategy).toMatchObject({ threshold: 0, batch: 1 });
  });

  it('keeps the identity of a rule when its mode changes (the filter keys state by id and parameters)', async () => {
    const local = await translateInline(join(rateLimit('g'), rule('r', 'shop', ['/a'], ['g'])));
    const global = await translateInline(join(rateLimit('g', GLOBAL()), rule('r', 'shop', ['/a'], ['g'])));
    expect(global.config?.rules[0]?.id).toBe(local.config?.rules[0]?.id);
    expect(local.config).not.toHaveProperty('rateLimitService');
    expect(local.config?.rules[0]?.strategy).toEqual({ kind: 'RateLimit', threshold: 10, windowMs: 1000 });
  });

  it('takes the service settings from the options; the authority defaults to the cluster', async () => {
    const yaml = join(rateLimit('g', GLOBAL()), rule('r', 'shop', ['/a'], ['g']));
    const named = await translateInline(yaml, { rateLimitService: { cluster: 'rls', domain: 'shop', timeoutMs: 50 } });
    expect(named.config?.rateLimitService).toEqual({ cluster: 'rls', authority: 'rls', path: '/json', domain: 'shop', timeoutMs: 50 });
    const withAuthority = await translateInline(yaml, { rateLimitService: { cluster: 'outbound|8080||rls.ns.svc.cluster.local', authority: 'rls.ns.svc.cluster.local' } });
    expect(withAuthority.config?.rateLimitService).toMatchObject({ cluster: 'outbound|8080||rls.ns.svc.cluster.local', authority: 'rls.ns.svc.cluster.local' });
    expect(schemaErrors(withAuthority.config)).toEqual([]);
  });

  it('names the service only when the selected app has a Global rule', async () => {
    const yaml = join(rateLimit('g', GLOBAL()), rateLimit('l'), rule('ra', 'app-a', ['/a'], ['g']), rule('rb', 'app-b', ['/b'], ['l']));
    expect((await translateInline(yaml, { app: 'app-a' })).config).toHaveProperty('rateLimitService');
    const b = await translateInline(yaml, { app: 'app-b' });
    expect(b.errors).toEqual([]);
    expect(b.config).not.toHaveProperty('rateLimitService');
  });

  it.each([
    ['statDurationSeconds: 1', 1000],
    ['statDurationSeconds: 60', 60_000],
    ['statDurationSeconds: 3600', 3_600_000],
    ['statDurationSeconds: 86400', 86_400_000],
    ['statDuration: "1min"', 60_000],
    ['statDuration: "1h"', 3_600_000],
    ['statDuration: "1d"', 86_400_000],
  ])('%s: a window Envoy\'s reference service knows, no warning', async (window, windowMs) => {
    const result = await translateInline(join(rateLimit('g', GLOBAL('', window)), rule('r', 'shop', ['/a'], ['g'])));
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.config?.rules[0]?.strategy).toMatchObject({ windowMs });
  });

  it.each([
    ['statDurationSeconds: 5', 'statDurationSeconds: '.length, 5000],
    ['statDuration: "90s"', 'statDuration: '.length, 90_000],
    ['statDuration: "500ms"', 'statDuration: '.length, 500],
  ])('%s: warns at the window that only sergo rls understands it, and still translates', async (window, offset, windowMs) => {
    const yaml = join(rateLimit('g', GLOBAL('', window)), rule('r', 'shop', ['/a'], ['g']));
    const result = await translateInline(yaml);
    expect(result.errors).toEqual([]);
    expect(result.config?.rules[0]?.strategy).toMatchObject({ mode: 'Global', windowMs });
    const at = positionOf(yaml, window);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({
      file: result.paths['rules.yaml'],
      line: at.line,
      col: at.col + offset,
      object: 'RateLimitStrategy/g',
      field: `spec.${window.slice(0, window.indexOf(':'))}`,
    });
    expect(result.warnings[0]!.message).toBe(
      `a Global window of ${windowMs} ms works with sergo rls only (it reads the window from the sergo_window_ms descriptor entry): ` +
        "Envoy's reference rate-limit service knows only windows of 1 s, 1 min, 1 h and 1 d (statDurationSeconds 1, 60, 3600, 86400) " +
        'and would count this threshold per second',
    );
  });

  it('does not warn about the window of a Local limit', async () => {
    const result = await translateInline(join(rateLimit('l', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 3\nstatDurationSeconds: 5'), rule('r', 'shop', ['/a'], ['l'])));
    expect(result.warnings).toEqual([]);
  });

  it('refuses failOpen and batch on a Local limit, and a batch the service would always refuse', async () => {
    const local = rateLimit('l', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 3\nstatDurationSeconds: 1\nfailOpen: false\nbatch: 2');
    const result = await translateInline(join(local, rule('r', 'shop', ['/a'], ['l'])));
    expect(result.config).toBeUndefined();
    expect(result.errors.map((d) => [d.field, d.message])).toEqual([
      ['spec.failOpen', 'applies to limitMode Global only (it concerns the calls to the rate-limit service; a Local limit makes none)'],
      ['spec.batch', 'applies to limitMode Global only (it concerns the calls to the rate-limit service; a Local limit makes none)'],
    ]);
    const tooBig = await translateInline(join(rateLimit('g', 'metricType: RequestAmount\nlimitMode: Global\nthreshold: 3\nstatDurationSeconds: 1\nbatch: 4'), rule('r', 'shop', ['/a'], ['g'])));
    expect(tooBig.errors.map((d) => d.message)).toEqual([
      '4 is more than the threshold 3: each call asks the rate-limit service for 4 hits at once, which it would refuse every time, so every request would be blocked; use a batch of at most the threshold',
    ]);
  });
});

describe('the filter accepts the translated Global configuration', () => {
  it('calls the configured service cluster with the configured authority, domain, timeout and batch', async () => {
    const yaml = join(rateLimit('g', GLOBAL('\nbatch: 4', 'statDurationSeconds: 5')), rule('r', 'shop', ['GET:/items'], ['g']));
    const result = await translateInline(yaml, { rateLimitService: { cluster: 'outbound|8080||rls.ns.svc.cluster.local', authority: 'rls.ns.svc.cluster.local', domain: 'shop', timeoutMs: 30 } });
    expect(result.errors).toEqual([]);
    const calls: HttpCallRequest[] = [];
    const host = new ProxyWasmHost({
      module: compileModule(readFileSync(resolve(repoRoot, 'build/sergo.wasm'))),
      vms: 1,
      rootId: 'sergo',
      clock: new ManualClock(1_767_225_600_000),
      configuration: renderFilterConfig(result.config!),
      httpCallHandler: (_vm, call) => {
        calls.push(call);
        return Promise.resolve({ headers: [[':status', '200']], body: '{"overallCode":"OK"}' });
      },
    });
    expect(host.start()).toBe(true);
    const stream = host.stream();
    const first = stream.requestHeaders([[':method', 'GET'], [':path', '/items'], [':authority', 'shop'], [':scheme', 'http']]);
    expect(first.action).toBe('pause');
    await host.whenIdle();
    expect(stream.localResponse).toBeUndefined();
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.cluster).toBe('outbound|8080||rls.ns.svc.cluster.local');
    expect(call.timeoutMs).toBe(30);
    expect(Object.fromEntries(call.headers)).toMatchObject({ ':method': 'POST', ':path': '/json', ':authority': 'rls.ns.svc.cluster.local' });
    expect(JSON.parse(new TextDecoder().decode(call.body))).toEqual({
      domain: 'shop',
      descriptors: [
        {
          entries: [
            { key: 'sergo_rule', value: 'default/shop/r/RateLimitStrategy/g@GET:/items' },
            { key: 'sergo_window_ms', value: '5000' },
          ],
          limit: { requests_per_unit: 100, unit: 'SECOND' },
        },
      ],
      hits_addend: 4,
    });
  });
});
