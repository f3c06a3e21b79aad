// Lanes → Envoy routes and clusters (src/emit/lane-routes.ts): per host, a route per lane on the lane
// header to an aggregate of the lane's subset and the base, and the base for every other request.
import { describe, expect, it } from 'vitest';
import { emitLaneRouting, hostDomains } from '../../src/emit/lane-routes.ts';
import type { Lane, LaneSet } from '../../src/ir/lane.ts';
import type { Endpoint } from '../../src/ir/traffic.ts';
import { parse as parseYaml } from 'yaml';
import { bootstrapSchemaErrors, sergo } from '../emit/helpers.ts';
import { writeFiles } from '../support/workspace.ts';

const pos = { file: 'lanes.yaml', line: 1, col: 1 };
const lane = (name: string, labels: Array<[string, string]>): Lane => ({
  origin: { kind: 'TrafficLane', namespace: 'shop', name, pos }, name, entryApp: 'web', matches: [{ headers: [], query: [] }],
  workloadLabels: labels, key: 'x-sergo-lane', keyPos: pos,
});
const at = (port: number, labels: Record<string, string>): Endpoint => ({ address: { host: '127.0.0.1', port }, labels });
const HOST = 'b.shop.svc.cluster.local';
const set: LaneSet = { key: 'x-sergo-lane', colours: true, lanes: [lane('gray', [['version', 'v2']]), lane('blue', [['version', 'v3'], ['zone', 'a']])] };
const ports = (c: unknown) => ((c as { load_assignment?: { endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: { port_value: number } } } }> }> } })
  .load_assignment?.endpoints.flatMap((e) => e.lb_endpoints.map((l) => l.endpoint.address.socket_address.port_value)));

describe('lane routes', () => {
  const routing = emitLaneRouting(set, new Map([[HOST, [at(1, { version: 'v1' }), at(2, { version: 'v2' }), at(3, { version: 'v3', zone: 'b' }), at(4, { version: 'v2', zone: 'a' })]]]));

  it('a route per lane on the lane header, then the base', () => {
    expect(routing.hosts).toEqual([{
      host: HOST,
      domains: ['b', 'b.shop', 'b.shop.svc', HOST],
      lanes: [
        { name: 'lane/gray', match: { prefix: '/', headers: [{ name: 'x-sergo-lane', string_match: { exact: 'gray' } }] }, route: { cluster: `lane-fallback|gray|${HOST}` } },
        { name: 'lane/blue', match: { prefix: '/', headers: [{ name: 'x-sergo-lane', string_match: { exact: 'blue' } }] }, route: { cluster: `lane-fallback|blue|${HOST}` } },
      ],
      base: { name: 'lane/base', match: { prefix: '/' }, route: { cluster: `lane||${HOST}` } },
    }]);
  });

  it("a lane's subset holds the endpoints with all its labels; the base those of no lane", () => {
    const byName = new Map(routing.clusters.map((c) => [c.name, c]));
    expect(ports(byName.get(`lane|gray|${HOST}`))).toEqual([2, 4]);
    expect(ports(byName.get(`lane|blue|${HOST}`))).toEqual([]);
    expect(ports(byName.get(`lane||${HOST}`))).toEqual([1, 3]);
    expect(byName.get(`lane-fallback|blue|${HOST}`)).toMatchObject({
      lb_policy: 'CLUSTER_PROVIDED',
      cluster_type: { name: 'envoy.clusters.aggregate', typed_config: { clusters: [`lane|blue|${HOST}`, `lane||${HOST}`] } },
    });
  });

  it('names the short forms of a cluster-local host only', () => {
    expect(hostDomains('api.example.com')).toEqual(['api.example.com']);
    expect(hostDomains('r.default.svc.cluster.local')).toEqual(['r', 'r.default', 'r.default.svc', 'r.default.svc.cluster.local']);
  });
});

describe('lane routes in the bootstrap (sergo translate --format envoy --endpoints)', () => {
  const LANE = `apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLane
metadata: { name: gray }
spec:
  selector: { app: web }
  rules:
    traffic: { http: { uri: { prefix: /shop } } }
    workload: { selector: { version: v2 } }
    lane: { name: gray }
`;
  const ROUTER = `---
apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficRouter
metadata: { name: api }
spec:
  hosts: [api]
  http: [{ route: [{ destination: { host: api, subset: v1 } }] }]
`;
  const ENDPOINTS = 'api:\n  - { address: 127.0.0.1:9001, labels: { version: v1 } }\n  - { address: 127.0.0.1:9002, labels: { version: v2 } }\nweb:\n  - { address: 127.0.0.1:9003, labels: { version: v1 } }\n';

  async function bootstrap(rules: string) {
    const paths = writeFiles({ 'rules.yaml': rules, 'endpoints.yaml': ENDPOINTS });
    const run = await sergo('translate', paths['rules.yaml']!, '--format', 'envoy', '--upstream', 'http://127.0.0.1:8080', '--endpoints', paths['endpoints.yaml']!);
    expect(run.stderr).toBe('');
    const parsed = parseYaml(run.stdout) as any;
    expect(bootstrapSchemaErrors(parsed)).toEqual([]);
    return parsed.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config;
  }

  it("lane routes go first in a router's virtual host; a host without one gets its own, before *", async () => {
    const table = await bootstrap(LANE + ROUTER);
    expect(table.virtual_hosts.map((v: any) => v.name)).toEqual(['default/api', 'lanes/web.default.svc.cluster.local', 'upstream']);
    const api = table.virtual_hosts[0];
    expect(api.routes[0]).toEqual({ name: 'lane/gray', match: { prefix: '/', headers: [{ name: 'x-sergo-lane', string_match: { exact: 'gray' } }] }, route: { cluster: 'lane-fallback|gray|api.default.svc.cluster.local' } });
    expect(api.routes.slice(1).map((r: any) => r.route.cluster)).toEqual(['outbound||v1|api.default.svc.cluster.local']);
    expect(table.virtual_hosts[1].routes.map((r: any) => r.route.cluster)).toEqual(['lane-fallback|gray|web.default.svc.cluster.local', 'lane||web.default.svc.cluster.local']);
    expect(table.ignore_port_in_host_matching).toBe(true);
  });

  it('without --endpoints there are no lane routes (the filter still colours and carries)', async () => {
    const paths = writeFiles({ 'rules.yaml': LANE });
    const run = await sergo('translate', paths['rules.yaml']!, '--format', 'envoy', '--upstream', 'http://127.0.0.1:8080');
    const parsed = parseYaml(run.stdout) as any;
    expect(parsed.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts.map((v: any) => v.name)).toEqual(['upstream']);
  });
});
