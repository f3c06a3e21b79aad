// Lanes → Envoy routes and clusters (src/emit/lane-routes.ts): per host, a route per lane on the lane
// header to an aggregate of the lane's subset and the base, and the base for every other request.
import { describe, expect, it } from 'vitest';
import { emitLaneRouting, hostDomains } from '../../src/emit/lane-routes.ts';
import type { Lane, LaneSet } from '../../src/ir/lane.ts';
import type { Endpoint } from '../../src/ir/traffic.ts';

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
        { match: { prefix: '/', headers: [{ name: 'x-sergo-lane', string_match: { exact: 'gray' } }] }, route: { cluster: `lane-fallback|gray|${HOST}` } },
        { match: { prefix: '/', headers: [{ name: 'x-sergo-lane', string_match: { exact: 'blue' } }] }, route: { cluster: `lane-fallback|blue|${HOST}` } },
      ],
      base: { match: { prefix: '/' }, route: { cluster: `lane||${HOST}` } },
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
