// `sergo serve` with TrafficLanes: the filter (through src/host, as in Envoy) colours and carries the
// lane to the one upstream, and serve says at start that routing lanes needs Envoy or Istio.
import { describe, expect, it } from 'vitest';
import { LANE_NOTE } from '../../src/serve/index.ts';
import { closeAfterEach, request, serveFor, startUpstream, workspace } from '../serve/helpers.ts';

closeAfterEach();

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

describe('sergo serve with lanes', () => {
  it('colours and carries to the upstream, and says that routing lanes needs Envoy', async () => {
    const ws = workspace();
    const up = await startUpstream();
    const served = await serveFor({ rules: [ws.file('lanes.yaml', LANE)], upstream: up.url });
    expect(served.logs.join('')).toContain(LANE_NOTE);
    expect((await request(served.base, '/shop/cart')).status).toBe(200);
    expect((await request(served.base, '/other', { headers: { baggage: 'a=1,x-sergo-lane=gray' } })).status).toBe(200);
    expect((await request(served.base, '/other')).status).toBe(200);
    const seen = up.hits.map((h) => [h.url, h.headers['x-sergo-lane'], h.headers.baggage]);
    expect(seen).toEqual([
      ['/shop/cart', 'gray', 'x-sergo-lane=gray'],
      ['/other', 'gray', 'a=1,x-sergo-lane=gray'],
      ['/other', undefined, undefined],
    ]);
  });
});
