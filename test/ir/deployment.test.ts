// The deployment model (src/ir/model.ts: Deployment): how it is built from the translated rules and
// the settings every target shares, and the invariants validateDeployment holds — each one broken
// on purpose here, so each can fail.
import { describe, expect, it } from 'vitest';
import { emitFilterConfig } from '../../src/emit/filter.ts';
import { buildDeployment, DEFAULT_RLS_CLUSTER, rateLimitService, usesRateLimitService } from '../../src/ir/deployment.ts';
import type { Deployment, Rule } from '../../src/ir/model.ts';
import { validateDeployment } from '../../src/ir/validate.ts';
import { concurrency, join, rateLimit, rule } from '../support/documents.ts';
import { schemaErrors } from '../support/schema.ts';
import { translateInline } from '../support/translate.ts';

const GLOBAL = 'metricType: RequestAmount\nlimitMode: Global\nthreshold: 100\nstatDurationSeconds: 1\nbatch: 5';

async function deploymentOf(yaml: string, namespace?: string): Promise<Deployment> {
  const result = await translateInline(yaml, namespace === undefined ? {} : { namespace });
  expect(result.errorLines).toEqual([]);
  return result.deployment!;
}

async function shop(): Promise<Deployment> {
  return deploymentOf(join(rateLimit('rl'), rateLimit('g', GLOBAL), concurrency('c'), rule('r', 'shop', ['/a', 'GET:/b'], ['rl', 'g', 'c'])));
}

/** A copy of the deployment's first rule changed by `edit`. */
function withRule(d: Deployment, edit: (r: Rule) => Rule): Deployment {
  return { ...d, rules: [edit(structuredClone(d.rules[0]!)), ...d.rules.slice(1)] };
}

describe('building a deployment', () => {
  it('takes the app and the one namespace of its rules; the service defaulted, options as given', async () => {
    const d = await shop();
    expect(d.app).toBe('shop');
    expect(d.namespace).toBe('default');
    expect(d.rules).toHaveLength(6);
    expect(d.rateLimitService).toEqual({ cluster: DEFAULT_RLS_CLUSTER, authority: DEFAULT_RLS_CLUSTER, path: '/json', domain: 'sergo', timeoutMs: 20 });
    expect(d.options).toEqual({});
    expect(usesRateLimitService(d)).toBe(true);
    expect(validateDeployment(d)).toEqual([]);
  });

  it('has no namespace when the rules span several, and the default one when there is no rule', async () => {
    const split = await deploymentOf(join(
      rateLimit('rl', undefined, { namespace: 'a' }), rateLimit('rl', undefined, { namespace: 'b' }),
      rule('ra', 'shop', ['/a'], ['rl'], { namespace: 'a' }), rule('rb', 'shop', ['/b'], ['rl'], { namespace: 'b' }),
    ));
    expect(split.namespace).toBeUndefined();
    expect(validateDeployment(split)).toEqual([]);
    const empty = buildDeployment({ rules: [], defaultNamespace: 'staging' });
    expect(empty).toMatchObject({ namespace: 'staging', rules: [] });
    expect(empty.app).toBeUndefined();
    expect(validateDeployment(empty)).toEqual([]);
  });

  it('the service\'s endpoint stays out of the filter configuration; options are emitted in a fixed order', async () => {
    const d = { ...(await shop()), rateLimitService: rateLimitService({ cluster: 'c', endpoint: { host: 'rls', port: 8081 } }), options: { onCasExhausted: 'allow' as const, casRetries: 4, maxQueuedPerVm: 9 } };
    const config = emitFilterConfig(d);
    expect(Object.keys(config)).toEqual(['version', 'options', 'rateLimitService', 'rules']);
    expect(Object.keys(config.options!)).toEqual(['maxQueuedPerVm', 'casRetries', 'onCasExhausted']);
    expect(config.rateLimitService).toEqual({ cluster: 'c', authority: 'c', path: '/json', domain: 'sergo', timeoutMs: 20 });
    expect(schemaErrors(config)).toEqual([]);
    expect(Object.keys(emitFilterConfig({ ...d, options: {} }))).toEqual(['version', 'rateLimitService', 'rules']);
  });
});

describe('validateDeployment', () => {
  it.each<[string, (d: Deployment) => Deployment, RegExp]>([
    ['a rule of another app', (d) => withRule(d, (r) => ({ ...r, app: 'other' })), /a rule of app other in the deployment of app shop/],
    ['rules without an app', (d) => ({ ...d, app: undefined }), /the rules have no app/],
    ['a rule of another namespace', (d) => withRule(d, (r) => ({ ...r, namespace: 'prod' })), /a rule of namespace prod in namespace default/],
    ['no namespace although the rules have one', (d) => ({ ...d, namespace: undefined }), /do not span several namespaces/],
    ['two rules with one id', (d) => ({ ...d, rules: [d.rules[0]!, d.rules[0]!] }), /two rules with this id/],
    ['an id that is not the identity', (d) => withRule(d, (r) => ({ ...r, id: `${r.id}x` })), /id is not default\/shop\/r\/RateLimitStrategy\/rl@\/a/],
    ['a resource that is no path', (d) => withRule(d, (r) => ({ ...r, resource: 'a' })), /resource: not \/path or METHOD:\/path/],
    ['a threshold beyond i32', (d) => withRule(d, (r) => ({ ...r, strategy: { ...r.strategy, spec: { kind: 'RateLimit', threshold: 2 ** 31, windowMs: 1000 } } })), /strategy.threshold: 2147483648 is not an integer in 0..2147483647/],
    ['a batch above the threshold', (d) => ({ ...d, rules: [d.rules[1]!].map((r) => ({ ...r, strategy: { ...r.strategy, spec: { kind: 'RateLimit', threshold: 3, windowMs: 1000, global: { failOpen: false, batch: 5 } } } })) }), /batch: 5 is more than the threshold/],
    ['unsorted error ranges', (d) => withRule(d, (r) => ({ ...r, strategy: { ...r.strategy, spec: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 1, recoveryTimeoutMs: 1, minRequestAmount: 1, errorStatus: [[500, 599], [429, 429]] } } })), /errorStatus\[1\]: not sorted/],
    ['a fallback header with CR LF', (d) => withRule(d, (r) => ({ ...r, fallback: { origin: r.strategy.origin as never, status: 429, headers: [['x', 'a\r\nb']] } })), /headers\[0\]: the value has CR, LF or NUL/],
    ['a service cluster with a space', (d) => ({ ...d, rateLimitService: rateLimitService({ cluster: 'a b' }) }), /rateLimitService.cluster: not printable ASCII/],
    ['a service timeout of a minute and a bit', (d) => ({ ...d, rateLimitService: rateLimitService({ timeoutMs: 60_001 }) }), /rateLimitService.timeoutMs: 60001 is not an integer in 1..60000/],
    ['no CAS attempt', (d) => ({ ...d, options: { casRetries: 0 } }), /options.casRetries: 0 is not an integer in 1..1000/],
    ['an unknown CAS decision', (d) => ({ ...d, options: { onCasExhausted: 'maybe' as 'allow' } }), /options.onCasExhausted: "maybe" is not block or allow/],
  ])('finds %s', async (_name, breakIt, problem) => {
    const d = await shop();
    expect(validateDeployment(d)).toEqual([]);
    const problems = validateDeployment(breakIt(d));
    expect(problems.length, problems.join('\n')).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(problem);
  });

  it('a broken invariant is an input error of translateFiles, not a configuration', async () => {
    const result = await translateInline(join(rateLimit('g', GLOBAL), rule('r', 'shop', ['/a'], ['g'])), { rateLimitService: { domain: 'x'.repeat(257) } });
    expect(result.deployment).toBeUndefined();
    expect(result.config).toBeUndefined();
    expect(result.errorLines).toEqual(['sergo: rateLimitService.domain: 257 characters, 1 to 256 allowed']);
  });
});

describe('the consumers build deployments too', () => {
  it('sergo xds: one deployment per namespace and app, with the service and options of every app', async () => {
    const { loadCatalog } = await import('../../src/xds/catalog.ts');
    const yaml = join(
      rateLimit('g', GLOBAL, { namespace: 'a' }), rateLimit('rl', undefined, { namespace: 'b' }),
      rule('ra', 'shop', ['/a'], ['g'], { namespace: 'a' }), rule('rb', 'shop', ['/b'], ['rl'], { namespace: 'b' }),
    );
    const { paths } = await translateInline(yaml, { app: 'shop' });
    const loaded = await loadCatalog([paths['rules.yaml']!], { rateLimitService: { domain: 'd' }, options: { casRetries: 5 } });
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const apps = loaded.catalog.apps;
    expect([...apps.keys()]).toEqual(['sergo/a/shop', 'sergo/b/shop']);
    expect(apps.get('sergo/a/shop')!.key).toEqual({ namespace: 'a', app: 'shop' });
    expect(apps.get('sergo/a/shop')!.config).toMatchObject({ options: { casRetries: 5 }, rateLimitService: { cluster: DEFAULT_RLS_CLUSTER, domain: 'd' } });
    expect(apps.get('sergo/b/shop')!.config.rateLimitService).toBeUndefined();
    const bad = await loadCatalog([paths['rules.yaml']!], { options: { casRetries: 0 } });
    expect(bad).toMatchObject({ ok: false, errors: ['sergo: sergo/a/shop: options.casRetries: 0 is not an integer in 1..1000', 'sergo: sergo/b/shop: options.casRetries: 0 is not an integer in 1..1000'] });
  });

  it('sergo serve: its rate-limit service (authority of --rls, its own timeout) goes into the deployment, nothing is patched in after', async () => {
    const { loadConfiguration, SERVE_RLS_TIMEOUT_MS } = await import('../../src/serve/rules.ts');
    const { paths } = await translateInline(join(rateLimit('g', GLOBAL), rule('r', 'shop', ['/a'], ['g'])));
    const loaded = await loadConfiguration({ rules: [paths['rules.yaml']!], rls: new URL('http://rls.local:8081'), rlsDomain: 'q' });
    expect(loaded.ok && loaded.config.rateLimitService).toEqual({ cluster: DEFAULT_RLS_CLUSTER, authority: 'rls.local:8081', path: '/json', domain: 'q', timeoutMs: SERVE_RLS_TIMEOUT_MS });
    expect(loaded.ok && loaded.json).toBe(JSON.stringify(loaded.ok && loaded.config));
  });
});
