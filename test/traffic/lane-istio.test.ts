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
  expect(run.stderr).toBe('');
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
