// Subsets → clusters (src/emit/subset-clusters.ts) and the --endpoints file (src/spec/traffic/endpoints.ts).
import { describe, expect, it } from 'vitest';
import { Diagnostics, formatDiagnostic } from '../../src/diagnostics.ts';
import { emitSubsetClusters, fallbackClusterName, missingEndpoints, subsetClusterName } from '../../src/emit/subset-clusters.ts';
import type { ServiceSubset } from '../../src/ir/traffic.ts';
import { loadEndpoints } from '../../src/spec/traffic/endpoints.ts';

const HOST = 'reviews.default.svc.cluster.local';
const ENDPOINTS = `
reviews:
  - address: 127.0.0.1:9081
    labels: { version: v1 }
  - address: 127.0.0.1:9082
    labels: { version: v2, zone: a }
  - address: 127.0.0.1:9083
    labels: { version: v3 }
`;

function table(text = ENDPOINTS) {
  const diagnostics = new Diagnostics();
  const endpoints = loadEndpoints('endpoints.yaml', text, 'default', diagnostics);
  return { endpoints, messages: diagnostics.items.map(formatDiagnostic) };
}

const subsets: ServiceSubset[] = [
  { host: HOST, name: 'v1', labels: { version: 'v1' }, source: 'default' },
  { host: HOST, name: 'v2a', labels: { version: 'v2', zone: 'a' }, source: 'DestinationRule' },
  { host: HOST, name: 'v4', labels: { version: 'v4' }, source: 'default' },
];

function ports(cluster: unknown): number[] {
  const c = cluster as { load_assignment: { endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: { port_value: number } } } }> }> } };
  return c.load_assignment.endpoints.flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.address.socket_address.port_value));
}

describe('subset clusters', () => {
  it('a subset is the endpoints whose labels include all of its labels; no subset is every endpoint', () => {
    const { endpoints } = table();
    const clusters = emitSubsetClusters(
      [{ primary: { host: HOST, subset: 'v1' } }, { primary: { host: HOST, subset: 'v2a' } }, { primary: { host: HOST } }],
      subsets,
      endpoints!,
    );
    expect(clusters.map((c) => c.name)).toEqual([`outbound||v1|${HOST}`, `outbound||v2a|${HOST}`, `outbound|||${HOST}`]);
    expect(clusters.map(ports)).toEqual([[9081], [9082], [9081, 9082, 9083]]);
  });

  it('a fallback is an aggregate cluster: the subset first, the fallback second, each cluster once', () => {
    const { endpoints } = table();
    const v4 = { host: HOST, subset: 'v4' };
    const v1 = { host: HOST, subset: 'v1' };
    const clusters = emitSubsetClusters([{ primary: v4, fallback: v1 }, { primary: v1 }, { primary: v4, fallback: v1 }], subsets, endpoints!);
    expect(clusters.map((c) => c.name)).toEqual([subsetClusterName(v4), subsetClusterName(v1), fallbackClusterName(v4, v1)]);
    expect(ports(clusters[0])).toEqual([]);
    expect(clusters[2]).toMatchObject({ lb_policy: 'CLUSTER_PROVIDED', cluster_type: { name: 'envoy.clusters.aggregate', typed_config: { clusters: [subsetClusterName(v4), subsetClusterName(v1)] } } });
  });

  it('hosts without endpoints are named', () => {
    const { endpoints } = table();
    expect(missingEndpoints([{ primary: { host: HOST }, fallback: { host: 'ratings.default.svc.cluster.local' } }], endpoints!)).toEqual(['ratings.default.svc.cluster.local']);
  });
});

describe('--endpoints file', () => {
  it('qualifies short names with the namespace; keeps qualified names', () => {
    const { endpoints } = table(`reviews: []\nratings.shop.svc.cluster.local:\n  - address: ratings.local:80\n`);
    expect([...endpoints!.keys()]).toEqual([HOST, 'ratings.shop.svc.cluster.local']);
    expect(endpoints!.get('ratings.shop.svc.cluster.local')).toEqual([{ address: { host: 'ratings.local', port: 80 }, labels: {} }]);
  });

  it('a bad address or label is an error with its position, and nothing is used', () => {
    const { endpoints, messages } = table(`reviews:\n  - address: 127.0.0.1\n  - address: 127.0.0.1:1\n    labels: [v1]\n`);
    expect(endpoints).toBeUndefined();
    expect(messages).toEqual([
      'endpoints.yaml:2:14: endpoints: reviews[0].address: "127.0.0.1" is not HOST:PORT (e.g. 127.0.0.1:18000 or sergo-xds.sergo-system:18000)',
      'endpoints.yaml:4:5: endpoints: reviews[1].labels: must be a mapping, not a list',
    ]);
  });
});
