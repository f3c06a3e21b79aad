// Rules edited while Envoy serves traffic, pushed by `sergo xds` over ECDS to the real Envoy: the new
// limit enforced within 2 s without a restart; state (a rate-limit window, an open breaker) carried
// over when only an unrelated rule changed; an invalid edit not pushed; a configuration the filter
// refuses NACKed by Envoy, with the previous limits still enforced.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Upstream } from '../envoy/upstream.ts';
import {
  converged, count, envoyStat, envoyVersion, limitRules, processLaunchers, RulesDir, send, sleep, startEnvoy, startServer, statuses,
  type TestServer,
} from './support.ts';
import { eventually, type RunningEnvoy } from '../envoy/harness.ts';

const FOO = 'sergo/default/foo';

const BREAKER = `
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: CircuitBreakerStrategy
metadata: { name: breaker, labels: { app: foo } }
spec:
  strategy: ErrorRequestRatio
  triggerRatio: '50%'
  statDuration: '60s'
  recoveryTimeout: '60s'
  minRequestAmount: 2
  errorConditions: { statusCodes: ['500'] }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: breaker, labels: { app: foo } }
spec:
  targets: [{ targetResourceName: '/c' }]
  strategies: [{ name: breaker, kind: CircuitBreakerStrategy }]
`;

const PACING = `
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: ThrottlingStrategy
metadata: { name: pace, labels: { app: foo } }
spec: { minIntervalOfRequests: '500ms', queueTimeout: '5s' }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: paced, labels: { app: foo } }
spec:
  targets: [{ targetResourceName: '/p' }]
  strategies: [{ name: pace, kind: ThrottlingStrategy }]
`;

function fooRules(traffic: number, a: number, b: number): string {
  return [
    PACING,
    limitRules('foo', [
      { name: 'traffic', resource: '/t', threshold: traffic },
      { name: 'window', resource: '/a', threshold: a },
      { name: 'unrelated', resource: '/b', threshold: b },
    ]),
    BREAKER,
  ].join('---\n');
}

for (const launcher of await processLaunchers('test/xds/edit.test.ts')) {
  describe(`rules edited live, pushed over ECDS (${launcher.name})`, () => {
    const dir = new RulesDir();
    let upstream: Upstream;
    let server: TestServer;
    let envoy: RunningEnvoy;
    const status = () => server.handle.status();

    beforeAll(async () => {
      upstream = await Upstream.start();
      dir.save('foo.yaml', fooRules(1000, 5, 100));
      server = await startServer({ rules: [dir.path] });
      envoy = await startEnvoy(launcher, fooRules(1000, 5, 100), upstream.port, server.handle.address);
      await converged(status, FOO, 1);
    });
    afterAll(async () => {
      await envoy?.stop();
      await server?.handle.close();
      await upstream?.close();
      dir.remove();
    });

    it('enforces a new threshold within 2 s of the save, in the same Envoy process', async () => {
      const uptimeBefore = await envoyStat(envoy, 'server.uptime');
      const seen: Array<{ at: number; status: number }> = [];
      let running = true;
      const traffic = (async () => {
        while (running) seen.push({ at: Date.now(), status: (await send(envoy.url, '/t')).status });
      })();
      await sleep(300);
      const savedAt = Date.now();
      dir.save('foo.yaml', fooRules(3, 5, 100));
      const deadline = savedAt + 5_000;
      while (Date.now() < deadline && !seen.some((s) => s.at >= savedAt && s.status === 429)) await sleep(20);
      await sleep(600);
      running = false;
      await traffic;

      const before = seen.filter((s) => s.at < savedAt);
      expect(before.length).toBeGreaterThan(0);
      expect(before.every((s) => s.status === 200)).toBe(true);
      const firstRefusal = seen.find((s) => s.at >= savedAt && s.status === 429);
      expect(firstRefusal, 'a request refused by the new threshold').toBeDefined();
      expect(firstRefusal!.at - savedAt).toBeLessThan(2_000);
      // From then on (every worker has it a moment later) the new limit holds: the window is spent.
      const after = seen.filter((s) => s.at > firstRefusal!.at + 200);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((s) => s.status === 429)).toBe(true);
      // Same process: uptime kept growing (a restarted Envoy starts again from 0).
      expect(await envoyStat(envoy, 'server.uptime')).toBeGreaterThanOrEqual(uptimeBefore);
      expect(await envoyStat(envoy, `extension_config_discovery.http_filter.${FOO}.update_rejected`)).toBe(0);
    });

    it('keeps a window in progress and an open breaker when only an unrelated rule changed', async () => {
      expect(await statuses(envoy, '/a', 3)).toEqual([200, 200, 200]);
      expect(await statuses(envoy, '/c?status=500', 3)).toEqual([500, 500, 429]); // 2 errors of 2: open
      const reachedBefore = upstream.seen.filter((s) => s.path.startsWith('/c')).length;
      const previous = (await converged(status, FOO, 1))[0]!.running!;

      const loggedBefore = envoy.logs().length;
      dir.save('foo.yaml', fooRules(3, 5, 50));
      const [node] = await converged(status, FOO, 1, previous);
      expect(await envoyVersion(envoy, FOO)).toBe(node!.running);
      // Each worker VM configured a new root context and took over the 4 unchanged rules from its last
      // build (their metrics not defined again, their records not read again: test/filter/reload).
      const kept = () => envoy.logs().slice(loggedBefore).split('\n').filter((l) => l.includes('5 rules on 5 resources (4 unchanged)')).length;
      await eventually(() => kept() >= 2, 5_000, 'both workers log 4 unchanged rules');

      // 3 of 5 were spent before the push: 2 more, then refused (a fresh window would admit 5).
      expect(await statuses(envoy, '/a', 4)).toEqual([200, 200, 429, 429]);
      // Still open: answered by the filter, not forwarded, and its gauge says so.
      expect(await statuses(envoy, '/c', 2)).toEqual([429, 429]);
      expect(upstream.seen.filter((s) => s.path.startsWith('/c')).length).toBe(reachedBefore);
      expect([...(await envoy.stats('breaker_state')).values()]).toEqual([1]);
    });

    it('a push that gives the open breaker new parameters: closed at once, its gauge too', async () => {
      const previous = (await converged(status, FOO, 1))[0]!.running!;
      dir.save('foo.yaml', fooRules(3, 5, 50).replace("triggerRatio: '50%'", "triggerRatio: '60%'"));
      await converged(status, FOO, 1, previous);
      // Before any request: a new state (closed), set on the gauge by the VMs' on_configure.
      expect([...(await envoy.stats('breaker_state')).values()]).toEqual([0]);
      expect(await statuses(envoy, '/c', 1)).toEqual([200]);
    });

    it('resumes requests paused by Throttling under the previous configuration after a push', async () => {
      const previous = (await converged(status, FOO, 1))[0]!.running;
      const sentAt = Date.now();
      const paced = Array.from({ length: 4 }, () => send(envoy.url, '/p').then((r) => ({ status: r.status, at: Date.now() - sentAt })));
      await sleep(150);
      dir.save('foo.yaml', fooRules(3, 5, 51));
      await converged(status, FOO, 1, previous);
      const done = (await Promise.all(paced)).sort((x, y) => x.at - y.at);
      expect(done.map((d) => d.status)).toEqual([200, 200, 200, 200]);
      // Slots 500 ms apart (less at most one 100 ms tick across workers): the last ~1.5 s after the first.
      expect(done[3]!.at - done[0]!.at).toBeGreaterThanOrEqual(1_200);
    });

    it('does not push an invalid edit: reports file:line:col, Envoy keeps the last good version', async () => {
      const good = (await converged(status, FOO, 1))[0]!.running;
      const file = dir.save('foo.yaml', `${fooRules(3, 5, 51)}---\n${limitRules('foo', [{ name: 'broken', resource: '/x', threshold: -1 }])}`);
      expect(await server.handle.reload()).toBe('invalid');
      const { lastError } = status().catalog;
      expect(lastError?.errors.join('\n')).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: RateLimitStrategy/broken: spec.threshold`));
      expect(server.log.join('')).toContain('not pushed');
      expect(status().nodes[0]!.sent).toBe(good);
      expect(await envoyVersion(envoy, FOO)).toBe(good);
      expect(await statuses(envoy, '/a', 1)).toEqual([429]);
      dir.save('foo.yaml', fooRules(3, 5, 51));
      expect(await server.handle.reload()).toBe('unchanged');
      expect(status().catalog.lastError).toBeNull();
    });
  });

  describe(`a configuration the filter refuses (${launcher.name})`, () => {
    const dir = new RulesDir();
    let upstream: Upstream;
    let server: TestServer;
    let envoy: RunningEnvoy;
    const BAR = 'sergo/default/bar';
    const status = () => server.handle.status();
    const translated = (threshold: number) => JSON.stringify({
      version: 1,
      rules: [{ id: 'default/bar/limit/RateLimitStrategy/limit@/a', resource: '/a', strategy: { kind: 'RateLimit', threshold, windowMs: 60_000 } }],
    });

    beforeAll(async () => {
      upstream = await Upstream.start();
      writeFileSync(dir.file('bar.json'), translated(2));
      server = await startServer({ rules: [], configs: [{ resource: BAR, file: dir.file('bar.json') }] });
      envoy = await startEnvoy(launcher, limitRules('bar', [{ name: 'limit', resource: '/a', threshold: 2 }]), upstream.port, server.handle.address);
      await converged(status, BAR, 1);
    });
    afterAll(async () => {
      await envoy?.stop();
      await server?.handle.close();
      await upstream?.close();
      dir.remove();
    });

    it('is NACKed by Envoy; /status and the metrics say so; the previous limits stay enforced', async () => {
      const good = (await converged(status, BAR, 1))[0]!.running;
      expect(await statuses(envoy, '/a', 1)).toEqual([200]);
      // Version 99 passes the server's shape check but the filter's on_configure refuses it.
      dir.save('bar.json', '{"version":99,"rules":[]}');
      expect(await server.handle.reload()).toBe('applied');
      let node = status().nodes[0]!;
      for (let i = 0; i < 100 && node.state !== 'NACKed'; i++) { await sleep(50); node = status().nodes[0]!; }
      expect(node.state).toBe('NACKed');
      expect(node.running).toBe(good);
      expect(node.sent).not.toBe(good);
      expect(node.lastError).toMatchObject({ version: node.sent, message: 'Unable to create Wasm plugin sergo' });
      // Envoy's log has the filter's reason; the server logs the NACK once.
      expect(envoy.logs()).toContain('sergo: configuration rejected: version: must be 1');
      expect(server.log.filter((l) => l.includes('(NACK)'))).toHaveLength(1);
      expect(await server.handle.metricsText()).toMatch(/sergo_xds_nacks_total\{app="sergo\/default\/bar"\} 1/);
      expect(await server.handle.metricsText()).toMatch(/sergo_xds_streams_behind\{app="sergo\/default\/bar"\} 1/);
      expect(await envoyStat(envoy, `extension_config_discovery.http_filter.${BAR}.update_rejected`)).toBe(1);
      expect(await envoyVersion(envoy, BAR)).toBe(good);
      // The previous limit (2 per minute, one spent) still holds on every worker.
      expect(await statuses(envoy, '/a', 3)).toEqual([200, 429, 429]);

      // A good configuration again: ACKed, the error kept in lastError for the record.
      dir.save('bar.json', translated(4));
      await server.handle.reload();
      node = (await converged(status, BAR, 1, good))[0]!;
      expect(node.lastError?.version).not.toBe(node.running);
      expect(await statuses(envoy, '/a', 5)).toEqual([200, 200, 200, 200, 429]);
      expect(await server.handle.metricsText()).toMatch(/sergo_xds_streams_behind\{app="sergo\/default\/bar"\} 0/);
    });
  });
}
