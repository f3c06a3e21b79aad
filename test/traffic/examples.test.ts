// OpenSergo's own traffic examples (test/fixtures/opensergo-examples, verbatim): each translates or is
// refused with a positioned reason. The two TrafficRouter examples (header → subset v2, fallback v1)
// run in real Envoy: tag v2 reaches v2 while v2 has an endpoint, and v1 when it has none; Istio
// cannot express their fallback, so --format istio refuses them at `fallback`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/diagnostics.ts';
import { translateFiles } from '../../src/translate.ts';
import { launchers, send, type RunningEnvoy } from '../envoy/harness.ts';
import { lines, runSergo } from '../support/cli.ts';
import { repoRoot } from '../support/paths.ts';
import { positionOf } from '../support/workspace.ts';
import { endpointsFile, Labelled } from './labelled.ts';

const EXAMPLES = join(repoRoot, 'test/fixtures/opensergo-examples');
const ROUTERS = [
  { file: 'traffic/traffic-router.yaml', header: 'tag' },
  { file: 'control-plane-samples/opensergo_traffic_router_samples.yaml', header: 'x-mse-tag' },
];

describe('OpenSergo traffic examples', () => {
  it.each(ROUTERS)('$file: a TrafficRouter with its subsets (default: version label) and fallback', async ({ file }) => {
    const result = await translateFiles([join(EXAMPLES, file)]);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    const traffic = result.deployment!.traffic!;
    expect(traffic.routers.map((r) => r.fqdnHosts)).toEqual([['service-provider.default.svc.cluster.local']]);
    expect(traffic.subsets.map((s) => [s.name, s.labels, s.source])).toEqual([['v1', { version: 'v1' }, 'default'], ['v2', { version: 'v2' }, 'default']]);
  });

  it.each(ROUTERS)('$file: --format istio refuses the fallback, at its position', async ({ file }) => {
    const path = join(EXAMPLES, file);
    const run = await runSergo(['translate', path, '--format', 'istio', '--url', 'oci://example.com/sergo:1']);
    expect(run.code).toBe(2);
    const at = positionOf(readFileSync(path, 'utf8'), 'fallback:');
    expect(lines(run.stderr)).toEqual([expect.stringContaining(`${path}:${at.line}:${at.col}: TrafficRouter/service-provider: spec.http[0].route[0].destination.fallback: Istio cannot express a fallback`)]);
  });

  it.each(ROUTERS)('$file: sergo validate counts the router', async ({ file }) => {
    const run = await runSergo(['validate', join(EXAMPLES, file)]);
    expect([run.code, lines(run.stderr)]).toEqual([0, ['ok: 0 rules (1 file); 1 TrafficRouter']]);
  });

  it('traffic/traffic-lane.yaml is refused: invalid YAML upstream, with its position', async () => {
    const result = await translateFiles([join(EXAMPLES, 'traffic/traffic-lane.yaml')]);
    expect(result.errors.length).toBeGreaterThan(0);
    for (const d of result.errors) expect(formatDiagnostic(d)).toMatch(/traffic-lane\.yaml:\d+:\d+: .*invalid YAML: /);
  });
});

const [launcher] = (await launchers('test/traffic/examples.test.ts')).filter((l) => l.name === 'process');

describe.skipIf(launcher === undefined)('OpenSergo TrafficRouter examples in Envoy (process)', () => {
  let v1: Labelled, v2: Labelled, other: Labelled;
  const running: RunningEnvoy[] = [];

  beforeAll(async () => {
    [v1, v2, other] = await Promise.all(['v1', 'v2', 'other'].map((l) => Labelled.start(l)));
  });
  afterAll(async () => {
    await Promise.all(running.map((e) => e.stop()));
    await Promise.all([v1, v2, other].map((u) => u?.close()));
  });

  it.each(ROUTERS)('$file: the header selects v2; without a v2 endpoint the fallback v1 answers', async ({ file, header }) => {
    const rules = readFileSync(join(EXAMPLES, file), 'utf8');
    const start = async (endpoints: Labelled[]) => {
      const envoy = await launcher!.start({ rules, upstreamPort: other.port, translateArgs: ['--endpoints', endpointsFile({ 'service-provider': endpoints })] });
      running.push(envoy);
      return async (headers: Record<string, string>) => (await send(envoy.url, '/hello', { headers: { host: 'service-provider', ...headers } })).headers['x-version'];
    };
    const both = await start([v1, v2]);
    expect([await both({ [header]: 'v2' }), await both({}), await both({ [header]: 'v3' })]).toEqual(['v2', 'v1', 'v1']);
    const onlyV1 = await start([v1]);
    expect([await onlyV1({ [header]: 'v2' }), await onlyV1({})]).toEqual(['v1', 'v1']);
  });
});
