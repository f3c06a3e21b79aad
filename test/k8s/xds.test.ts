// sergo controller --xds: `kubectl apply` of an OpenSergo rule → the controller (watching the real
// API server) → ECDS → a real Envoy (bootstrap from `sergo translate --format envoy --xds`) that
// enforces it; an edit is enforced without a restart, a broken edit is not pushed (the last good
// rules keep running), deleting the rules lifts them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControllerHandle } from '../../src/controller/index.ts';
import { launchers, send, SERGO_WASM, type RunningEnvoy } from '../envoy/harness.ts';
import { Upstream } from '../envoy/upstream.ts';
import { envoyVersion } from '../xds/support.ts';
import { ApiServer, controllerFor, eventually, haveApiServer } from './support.ts';

const available = haveApiServer('test/k8s/xds.test.ts');
const envoyLaunchers = available ? (await launchers('test/k8s/xds.test.ts')).filter((l) => l.name === 'process') : [];
const RESOURCE = 'sergo/shop/checkout';

const rules = (threshold: number) => `
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: RateLimitStrategy
metadata: { name: checkout-limit, namespace: shop, labels: { app: checkout } }
spec: { metricType: RequestAmount, limitMode: Local, threshold: ${threshold}, statDurationSeconds: 60 }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: HttpRequestFallbackAction
metadata: { name: busy, namespace: shop }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc: { responseStatusCode: 429, responseContentBody: 'checkout is busy' }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: checkout, namespace: shop, labels: { app: checkout } }
spec:
  targets: [{ targetResourceName: 'GET:/api/checkout' }]
  strategies: [{ name: checkout-limit, kind: RateLimitStrategy }]
  fallbackAction: busy
`;

async function statuses(envoy: RunningEnvoy, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(envoy.url, '/api/checkout')).status);
  return out;
}

// The Envoy binary only: the container launcher's Envoy could not reach this machine's loopback.
const launcher = envoyLaunchers[0];

describe.skipIf(launcher === undefined)('sergo controller --xds → Envoy', () => {
  let api: ApiServer;
  let controller: ControllerHandle;
  let upstream: Upstream;
  let envoy: RunningEnvoy;

  beforeAll(async () => {
    api = await ApiServer.start();
    await api.installCrds();
    await api.kubectl(['create', 'namespace', 'shop']);
    controller = await controllerFor(api, { xds: { listen: '127.0.0.1:0', admin: '127.0.0.1:0', module: SERGO_WASM } });
    await controller.synced;
    upstream = await Upstream.start();
    // The bootstrap a user makes for the app's Envoys (the rules only name the app and namespace).
    envoy = await launcher!.start({ rules: rules(3), upstreamPort: upstream.port, translateArgs: ['--xds', controller.xds!.handle.address] });
  }, 120_000);

  afterAll(async () => {
    await envoy?.stop();
    await upstream?.close();
    await controller?.close();
    await api?.stop();
  });

  it('enforces a rule applied with kubectl, then its edit; keeps the last good rules on a broken edit; lifts them on delete', async () => {
    // Nothing applied yet: the app has no rules.
    await eventually(async () => (await envoyVersion(envoy, RESOURCE)) !== undefined, 20_000, 'Envoy has the resource');
    expect(await statuses(envoy, 5)).toEqual([200, 200, 200, 200, 200]);

    const applied = Date.now();
    await api.apply(rules(3));
    await eventually(async () => (await send(envoy.url, '/api/checkout')).status === 429, 20_000, 'the applied limit enforced by Envoy');
    console.log(`kubectl apply → enforced by Envoy in ${Date.now() - applied} ms`);
    const blocked = await send(envoy.url, '/api/checkout');
    expect(blocked).toMatchObject({ status: 429, body: 'checkout is busy' });

    // Edit: a higher threshold; the rule's identity is unchanged, so its window carries over.
    const before = await envoyVersion(envoy, RESOURCE);
    await api.kubectl(['patch', 'ratelimitstrategy', 'checkout-limit', '-n', 'shop', '--type', 'merge', '-p', '{"spec":{"threshold":50}}']);
    await eventually(async () => (await envoyVersion(envoy, RESOURCE)) !== before, 20_000, 'the edit pushed');
    expect((await statuses(envoy, 3)).every((s) => s === 200)).toBe(true);

    // A broken edit is reported in the status and not pushed.
    const good = await envoyVersion(envoy, RESOURCE);
    await api.kubectl(['patch', 'faulttolerancerule', 'checkout', '-n', 'shop', '--type', 'merge', '-p', '{"spec":{"fallbackAction":"no-such-fallback"}}']);
    await eventually(async () => (await api.find<any>('faulttolerancerules', 'checkout', 'shop'))?.status?.conditions?.[0]?.reason === 'Invalid', 20_000, 'Invalid'); // eslint-disable-line @typescript-eslint/no-explicit-any
    await controller.idle();
    expect(await envoyVersion(envoy, RESOURCE)).toBe(good);
    const catalog = controller.xds!.handle.status().catalog;
    expect(catalog.apps).toEqual([{ resource: RESOURCE, rules: 1 }]);

    // Deleted: the app has no rules any more, and neither has Envoy.
    await api.kubectl(['delete', 'faulttolerancerule', 'checkout', '-n', 'shop']);
    await eventually(async () => (await envoyVersion(envoy, RESOURCE)) !== good, 20_000, 'the deletion pushed');
    expect(controller.xds!.handle.status().catalog.apps).toEqual([]);
    expect(await statuses(envoy, 60)).toEqual(Array(60).fill(200));
  });
});
