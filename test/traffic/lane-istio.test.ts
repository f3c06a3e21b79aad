// Lanes in Istio (`sergo translate --format istio`): the app's WasmPlugin colours on its inbound
// listener; one namespace-wide WasmPlugin (no selector, mode CLIENT) carries lanes on every outbound
// call and colours nothing. Both validated with @kubernetes-models/istio, and run in the filter.
import { WasmPlugin } from '@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runSergo } from '../support/cli.ts';
import { schemaErrors } from '../support/schema.ts';
import { writeFiles } from '../support/workspace.ts';
import { startSergo } from '../filter/harness.ts';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { unknownFields } from './istio-schema.ts';

const LANE = `apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLane
metadata: { name: gray, namespace: shop }
spec:
  selector: { app: web }
  rules:
    traffic: { http: { uri: { prefix: /shop } } }
    workload: { selector: { version: v2 } }
    lane: { name: gray }
`;
const DIGEST = 'b'.repeat(64);

async function istio(...flags: string[]): Promise<Array<Record<string, any>>> {
  const paths = writeFiles({ 'lane.yaml': LANE });
  const run = await runSergo(['translate', paths['lane.yaml']!, '--format', 'istio', '--url', 'oci://ghcr.io/x/sergo:1', '--sha256', DIGEST, ...flags]);
  expect(run.stderr).toMatch(/^sergo: warning: lanes in Istio: no TrafficRouter in namespace shop, so no host routes lanes; a lane with no instance of a host gets no healthy upstream \(503\) there/);
  expect(run.code).toBe(0);
  return parseAllDocuments(run.stdout).map((d) => d.toJS() as Record<string, any>);
}

describe('lanes, --format istio', () => {
  it("the app's plugin colours at its inbound; the namespace's carrier carries on every outbound call", async () => {
    const [app, carrier, ...more] = await istio('--app', 'web');
    expect(more).toEqual([]);
    expect(app!.spec).toMatchObject({ selector: { matchLabels: { app: 'web' } }, match: [{ mode: 'SERVER' }] });
    expect(app!.spec.pluginConfig.lanes.colour).toEqual([{ lane: 'gray', when: [{ path: { prefix: '/shop' } }] }]);
    expect(carrier!.metadata).toEqual({ name: 'sergo-lanes', namespace: 'shop' });
    expect(carrier!.spec.selector).toBeUndefined();
    expect(carrier!.spec).toMatchObject({ match: [{ mode: 'CLIENT' }], failStrategy: 'FAIL_OPEN', pluginName: 'sergo', sha256: DIGEST });
    expect(carrier!.spec.pluginConfig).toEqual({ version: 1, rules: [], lanes: { header: 'x-sergo-lane', baggageKey: 'x-sergo-lane', names: ['gray'], colour: [] } });
    for (const m of [app!, carrier!]) {
      expect(() => new WasmPlugin(m as ConstructorParameters<typeof WasmPlugin>[0]).validate()).not.toThrow();
      expect(schemaErrors(m.spec.pluginConfig)).toEqual([]);
      expect(startSergo(m.spec.pluginConfig).started).toBe(true);
    }
  });

  it('is the same carrier whichever app is translated', async () => {
    const [, fromWeb] = await istio('--app', 'web');
    const [, fromApi] = await istio('--app', 'api');
    expect(fromApi).toEqual(fromWeb);
  });

  it('a gateway colours and carries itself: no carrier', async () => {
    const docs = await istio('--app', 'web', '--traffic', 'gateway');
    expect(docs.map((d) => d.metadata.name)).toEqual(['sergo-web']);
    expect(docs[0]!.spec.match).toEqual([{ mode: 'CLIENT' }]);
  });
});

describe('lanes with TrafficRouters, --format istio', () => {
  const ROUTERS = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: api, namespace: shop }
spec:
  host: api
  subsets: [{ name: v1, labels: { version: v1 } }]
---
apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficRouter
metadata: { name: api, namespace: shop }
spec:
  hosts: [api]
  http: [{ route: [{ destination: { host: api, subset: v1 } }] }]
---
apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficRouter
metadata: { name: cart, namespace: shop }
spec:
  hosts: [cart]
  http: [{ route: [{ destination: { host: cart, subset: v1 } }] }]
---
apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficRouter
metadata: { name: stock, namespace: shop }
spec:
  hosts: [stock.shop.svc.cluster.local]
  http: [{ route: [{ destination: { host: stock.shop.svc.cluster.local } }] }]
`;

  async function run(text: string) {
    const paths = writeFiles({ 'all.yaml': text });
    return runSergo(['translate', paths['all.yaml']!, '--format', 'istio', '--url', 'oci://ghcr.io/x/sergo:1', '--sha256', DIGEST, '--app', 'web']);
  }

  it("each router's VirtualService routes the lanes first, to a lane subset its host's DestinationRule defines", async () => {
    const out = await run(LANE + ROUTERS);
    expect(out.stderr).toBe('sergo: warning: lanes in Istio: hosts api, cart, stock.shop.svc.cluster.local route lanes (a VirtualService per TrafficRouter); ' +
      'a lane with no instance of a host gets no healthy upstream (503) there: Istio cannot fall back to the base as --format envoy --endpoints does (docs/traffic.md)\n');
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Record<string, any>);
    const byName = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;
    const laneRoute = (host: string) => ({ name: 'lane-gray', match: [{ headers: { 'x-sergo-lane': { exact: 'gray' } } }], route: [{ destination: { host, subset: 'gray' } }] });
    expect(byName('VirtualService', 'api').spec.http).toEqual([laneRoute('api'), { route: [{ destination: { host: 'api', subset: 'v1' } }] }]);
    expect(byName('VirtualService', 'stock').spec.http[0]).toEqual(laneRoute('stock.shop.svc.cluster.local'));
    // given (api), generated for a default subset (cart), new for a host without one (stock)
    expect(byName('DestinationRule', 'api').spec.subsets).toEqual([{ name: 'v1', labels: { version: 'v1' } }, { name: 'gray', labels: { version: 'v2' } }]);
    expect(byName('DestinationRule', 'sergo-cart').spec.subsets).toEqual([{ name: 'v1', labels: { version: 'v1' } }, { name: 'gray', labels: { version: 'v2' } }]);
    expect(byName('DestinationRule', 'sergo-lanes-stock').spec).toEqual({ host: 'stock.shop.svc.cluster.local', subsets: [{ name: 'gray', labels: { version: 'v2' } }] });
    for (const d of docs.filter((m) => m.kind !== 'WasmPlugin')) {
      const beta = { ...d, apiVersion: String(d.apiVersion).replace(/\/v1$/, '/v1beta1') };
      if (d.kind === 'VirtualService') new VirtualService(beta as never).validate();
      else new DestinationRule(beta as never).validate();
      expect(unknownFields(d as { kind: string; spec: unknown }), `${d.kind}/${d.metadata.name}`).toEqual([]);
    }
  });

  it('refuses a router of several hosts, and a subset of the lane\'s name with other labels, at their positions', async () => {
    const several = (LANE + ROUTERS).replace('hosts: [cart]', 'hosts: [cart, cart2]');
    const a = await run(several);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/:\d+:\d+: TrafficRouter\/cart: spec.hosts: a VirtualService of several hosts cannot send a lane/);
    const clash = (LANE + ROUTERS).replace('subsets: [{ name: v1, labels: { version: v1 } }]', 'subsets: [{ name: v1, labels: { version: v1 } }, { name: gray, labels: { version: v9 } }]');
    const b = await run(clash);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/:\d+:\d+: TrafficLane\/gray: spec.rules.lane.name: DestinationRule\/api has a subset gray with other labels/);
  });
});
