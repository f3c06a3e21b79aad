// One `sergo xds`, several apps: each Envoy gets the rules of the app its bootstrap names; and
// limitMode GlobalToLocal, the app's budget split over the Envoys connected, re-split as they join
// and leave — enforced in real Envoys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Upstream } from '../envoy/upstream.ts';
import type { RunningEnvoy } from '../envoy/harness.ts';
import { converged, count, envoyVersion, eventually, limitRules, processLaunchers, RulesDir, startEnvoy, startServer, statuses, type TestServer } from './support.ts';

const FOO = 'sergo/default/foo';
const BAR = 'sergo/default/bar';
const SHOP = 'sergo/default/shop';

for (const launcher of await processLaunchers('test/xds/apps.test.ts')) {
  describe(`several apps from one sergo xds (${launcher.name})`, () => {
    const dir = new RulesDir();
    let upstream: Upstream;
    let server: TestServer;
    const envoys: RunningEnvoy[] = [];
    const status = () => server.handle.status();
    const foo = limitRules('foo', [{ name: 'foo-limit', resource: '/a', threshold: 1 }]);
    const bar = limitRules('bar', [{ name: 'bar-limit', resource: '/a', threshold: 3 }, { name: 'bar-other', resource: '/b', threshold: 1 }]);

    beforeAll(async () => {
      upstream = await Upstream.start();
      dir.save('foo.yaml', foo);
      dir.save('bar.yaml', bar);
      server = await startServer({ rules: [dir.path] });
    });
    afterAll(async () => {
      await Promise.all(envoys.map((e) => e.stop()));
      await server?.handle.close();
      await upstream?.close();
      dir.remove();
    });

    it('gives two Envoys of two apps their own app\'s rules', async () => {
      envoys.push(...await Promise.all([
        startEnvoy(launcher, foo, upstream.port, server.handle.address),
        startEnvoy(launcher, bar, upstream.port, server.handle.address),
      ]));
      const [fooEnvoy, barEnvoy] = envoys as [RunningEnvoy, RunningEnvoy];
      const [fooNode] = await converged(status, FOO, 1);
      const [barNode] = await converged(status, BAR, 1);
      expect(fooNode!.running).not.toBe(barNode!.running);
      expect(await envoyVersion(fooEnvoy, FOO)).toBe(fooNode!.running);
      expect(await envoyVersion(barEnvoy, BAR)).toBe(barNode!.running);
      expect(await statuses(fooEnvoy, '/a', 3)).toEqual([200, 429, 429]);
      expect(await statuses(barEnvoy, '/a', 4)).toEqual([200, 200, 200, 429]);
      expect(await statuses(fooEnvoy, '/b', 2)).toEqual([200, 200]); // bar's rule is not foo's
      expect(await statuses(barEnvoy, '/b', 2)).toEqual([200, 429]);
    });

    it('pushes an edit of one app to that app\'s Envoys only', async () => {
      const [fooBefore] = await converged(status, FOO, 1);
      const [barBefore] = await converged(status, BAR, 1);
      dir.save('bar.yaml', limitRules('bar', [{ name: 'bar-limit', resource: '/a', threshold: 3 }, { name: 'bar-other', resource: '/b', threshold: 5 }]));
      await converged(status, BAR, 1, barBefore!.running);
      expect((await converged(status, FOO, 1))[0]).toMatchObject({ running: fooBefore!.running, sent: fooBefore!.sent });
      expect(server.log.filter((l) => l.includes('sent node foo.default')).length).toBe(1);
    });
  });

  describe(`limitMode GlobalToLocal over 1, 2 and 3 Envoys joining and leaving (${launcher.name})`, () => {
    const BUDGET = 7;
    const dir = new RulesDir();
    const rules = limitRules('shop', [{ name: 'budget', resource: '/a', threshold: BUDGET, mode: 'GlobalToLocal' }]);
    let upstream: Upstream;
    let server: TestServer;
    const status = () => server.handle.status();
    const envoys: RunningEnvoy[] = [];
    // The filter keeps a window per rule id and parameters: an Envoy back on a share it had before
    // continues that window (same minute). What each Envoy has spent at each threshold:
    const spent = new Map<RunningEnvoy, Map<number, number>>();

    beforeAll(async () => {
      upstream = await Upstream.start();
      dir.save('shop.yaml', rules);
      server = await startServer({ rules: [dir.path] });
    });
    afterAll(async () => {
      await Promise.all(envoys.map((e) => e.stop()));
      await server?.handle.close();
      await upstream?.close();
      dir.remove();
    });

    /** Waits for the split over the Envoys connected, then checks each admits exactly its share. */
    async function expectSplit(expected: number[]): Promise<void> {
      await eventually(() => {
        const rows = status().nodes.filter((n) => n.resource === SHOP);
        return rows.length === expected.length && rows.every((n) => n.state === 'ACKed' && n.instance?.of === expected.length);
      }, 15_000, `${expected.length} Envoys ACKing their shares`);
      const rows = status().nodes.filter((n) => n.resource === SHOP);
      expect(rows.map((n) => n.instance?.rank)).toEqual(expected.map((_, rank) => rank));
      expect(expected.reduce((a, b) => a + b, 0)).toBe(BUDGET);
      for (const [rank, share] of expected.entries()) {
        const envoy = envoys[rank]!;
        const used = spent.get(envoy) ?? new Map<number, number>();
        spent.set(envoy, used);
        const left = share - (used.get(share) ?? 0);
        const seen = await statuses(envoy, '/a', left + 2);
        expect(count(seen, 200), `Envoy ${rank} with a share of ${share}`).toBe(left);
        expect(count(seen, 429)).toBe(2);
        used.set(share, share);
      }
    }

    it('splits the budget 7 as 7, then 4+3, then 3+2+2, and back as Envoys leave', async () => {
      envoys.push(await startEnvoy(launcher, rules, upstream.port, server.handle.address));
      await expectSplit([7]);
      envoys.push(await startEnvoy(launcher, rules, upstream.port, server.handle.address));
      await expectSplit([4, 3]);
      envoys.push(await startEnvoy(launcher, rules, upstream.port, server.handle.address));
      await expectSplit([3, 2, 2]);
      await envoys.pop()!.stop();
      await expectSplit([4, 3]); // the first Envoy returns to 4: its earlier window is spent
      await envoys.pop()!.stop();
      await expectSplit([7]);
      expect(await server.handle.metricsText()).toMatch(/sergo_xds_streams\{app="sergo\/default\/shop"\} 1/);
    });
  });
}
