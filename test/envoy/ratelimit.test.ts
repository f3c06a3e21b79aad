// RateLimit in real Envoy: exact across workers, byte-exact fallbacks, templates, METHOD: keys,
// query strings, and the next window.
import { describe, expect, it } from 'vitest';
import { launchers, send, workersUsed } from './harness.ts';
import { rateLimitStrategy, yamlStream } from './rules.ts';
import { envoyOverUpstream } from './suite.ts';

const RULES = yamlStream(
  rateLimitStrategy({ name: 'twenty-per-minute', limitMode: 'Local', threshold: 20, statDurationSeconds: 60 }),
  rateLimitStrategy({ name: 'three-per-2s', limitMode: 'Local', threshold: 3, statDurationSeconds: 2 }),
) + `---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: HttpRequestFallbackAction
metadata: { name: slow-down, labels: { app: demo } }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc:
    responseStatusCode: 429
    responseContentBody: '{"error":"slow down","retry":true}'
    responseAdditionalHeaders: [{ key: x-sergo, value: limited }, { key: content-type, value: application/json }]
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: burst, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: 'GET:/burst' }]
  strategies: [{ name: twenty-per-minute }]
  fallbackAction: slow-down
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: items, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/items/{id}/detail' }, { targetResourceName: 'POST:/orders' }]
  strategies: [{ name: three-per-2s }]
`;

const [first, ...others] = await launchers('test/envoy/ratelimit.test.ts');

for (const launcher of first === undefined ? [] : [first, ...others]) {
  describe(`RateLimit in Envoy (${launcher.name}, 4 workers)`, () => {
    const suite = envoyOverUpstream(launcher, { rules: RULES, concurrency: 4 });

    it('admits exactly threshold of a burst spread over the workers, with the fallback byte for byte', async () => {
      const replies = await Promise.all(Array.from({ length: 60 }, () => send(suite.envoy.url, '/burst')));
      const admitted = replies.filter((r) => r.status === 200);
      const blocked = replies.filter((r) => r.status === 429);
      expect(admitted).toHaveLength(20);
      expect(blocked).toHaveLength(40);
      expect(await workersUsed(suite.envoy)).toBeGreaterThanOrEqual(2);
      for (const r of blocked) {
        expect(r.body).toBe('{"error":"slow down","retry":true}');
        expect(r.headers['x-sergo']).toBe('limited');
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
      }
      expect(suite.upstream.paths().filter((p) => p === '/burst')).toHaveLength(20);
    });

    it('limits a template per rule, ignoring the query string, and only the named method of a METHOD: key', async () => {
      const statuses: number[] = [];
      for (const path of ['/items/1/detail', '/items/2/detail?x=1', '/items/abc/detail?', '/items/9/detail']) {
        statuses.push((await send(suite.envoy.url, path)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect((await send(suite.envoy.url, '/items/1/other')).status).toBe(200);
      const posts = [];
      for (let i = 0; i < 4; i++) posts.push((await send(suite.envoy.url, '/orders?id=' + i, { method: 'POST', body: 'x' })).status);
      expect(posts).toEqual([200, 200, 200, 429]);
      const gets = [];
      for (let i = 0; i < 4; i++) gets.push((await send(suite.envoy.url, '/orders')).status);
      expect(gets).toEqual([200, 200, 200, 200]);
    });

    it('default fallback: 429 with the default body when the rule names no fallback action', async () => {
      let last = await send(suite.envoy.url, '/items/5/detail');
      for (let i = 0; i < 5 && last.status !== 429; i++) last = await send(suite.envoy.url, '/items/5/detail');
      expect(last.status).toBe(429);
      expect(last.body).toMatch(/^Blocked by sergo: RateLimit/);
    });

    it('admits again in the next window', async () => {
      // three-per-2s: the window slides over 10 buckets of 200 ms, so a full burst is admitted again
      // one bucket after the window (2.2 s) has passed.
      const burst = async () => (await Promise.all(Array.from({ length: 6 }, () => send(suite.envoy.url, '/items/7/detail')))).filter((r) => r.status === 200).length;
      const firstBurst = await burst();
      expect(firstBurst).toBeLessThanOrEqual(3);
      await new Promise((r) => setTimeout(r, 2_500));
      expect(await burst()).toBe(3);
    });
  });
}
