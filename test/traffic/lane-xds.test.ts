// `sergo xds` serves the lanes too (src/xds/catalog.ts): an app with rules gets its namespace's lanes
// in its configuration, an app without rules gets them when its Envoy asks, and a changed lane is a
// new catalog version (pushed). The filter accepts what is served.
import { describe, expect, it } from 'vitest';
import { emptyApp, loadCatalog } from '../../src/xds/catalog.ts';
import { rateLimit, rule, join } from '../support/documents.ts';
import { writeFiles } from '../support/workspace.ts';
import { startSergo } from '../filter/harness.ts';

const lane = (prefix: string) => `apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLane
metadata: { name: gray }
spec:
  selector: { app: web }
  rules:
    traffic: { http: { uri: { prefix: ${prefix} } } }
    workload: { selector: { version: v2 } }
    lane: { name: gray }
`;

async function catalog(laneText: string) {
  const paths = writeFiles({ 'rules.yaml': join(rateLimit('rl'), rule('limit', 'api', ['/a'], ['rl'])), 'lanes.yaml': laneText });
  const result = await loadCatalog([paths['rules.yaml']!, paths['lanes.yaml']!]);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.catalog;
}

describe('lanes over sergo xds', () => {
  it('an app with rules carries the lanes; the entry app without rules also colours', async () => {
    const c = await catalog(lane('/shop'));
    const api = c.apps.get('sergo/default/api')!.config;
    expect(api.lanes).toEqual({ header: 'x-sergo-lane', baggageKey: 'x-sergo-lane', names: ['gray'], colour: [] });
    const web = emptyApp({ namespace: 'default', app: 'web' }, c.lanes).config;
    expect(web.lanes?.colour).toEqual([{ lane: 'gray', when: [{ path: { prefix: '/shop' } }] }]);
    expect(emptyApp({ namespace: 'prod', app: 'web' }, c.lanes).config).toEqual({ version: 1, rules: [] });
    for (const config of [api, web]) expect(startSergo(config).started).toBe(true);
  });

  it('a changed lane is a new version', async () => {
    expect((await catalog(lane('/shop'))).version).not.toBe((await catalog(lane('/cart'))).version);
    expect((await catalog(lane('/shop'))).version).toBe((await catalog(lane('/shop'))).version);
  });
});
