// Other spellings of a limited path, through the bootstrap `sergo translate --format envoy` emits:
// the HCM normalises the path before any filter runs, so the filter and the upstream both see the
// canonical path, and the spelling cannot be used to get past a limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchers, send, type RunningEnvoy } from './harness.ts';
import { Upstream } from './upstream.ts';

const SPELLINGS = ['/a/b', '//a//b', '/a/./b', '/a/x/../b', '/a/%62', '/%61/b', '/a%2Fb', '/a/b?q=1'];

const RULES = `
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: RateLimitStrategy
metadata: { name: limit, labels: { app: demo } }
spec: { metricType: RequestAmount, limitMode: Local, threshold: ${SPELLINGS.length}, statDurationSeconds: 60 }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: ab, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: 'GET:/a/b' }]
  strategies: [{ name: limit }]
`;

const found = await launchers('test/envoy/paths.test.ts');

for (const launcher of found) {
  describe(`path spellings in Envoy (${launcher.name})`, () => {
    let upstream: Upstream;
    let envoy: RunningEnvoy;

    beforeAll(async () => {
      upstream = await Upstream.start();
      envoy = await launcher.start({ rules: RULES, upstreamPort: upstream.port });
    });
    afterAll(async () => {
      await envoy?.stop();
      await upstream?.close();
    });

    it('every spelling reaches the upstream as /a/b and is counted against the limit on /a/b', async () => {
      for (const path of SPELLINGS) expect((await send(envoy.url, path)).status, path).toBe(200);
      expect(upstream.paths().map((p) => p.split('?')[0])).toEqual(SPELLINGS.map(() => '/a/b'));
      // The limit (one per spelling) is used up: every spelling is now refused, none reaches the upstream.
      for (const path of SPELLINGS) expect((await send(envoy.url, path)).status, path).toBe(429);
      expect(upstream.seen).toHaveLength(SPELLINGS.length);
    });
  });
}
