// sergo controller against the real API server (test/k8s/support.ts): OpenSergo's own examples
// applied as they are become WasmPlugins with the configuration `sergo translate --format istio`
// gives; an edit updates the WasmPlugin once; a broken rule is reported with its field path while
// the last good WasmPlugin keeps running; deleting an app's last rule deletes its WasmPlugin.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ControllerHandle } from '../../src/controller/index.ts';
import { Writer, TokenBucket, type Plugin } from '../../src/controller/writes.ts';
import { connect } from '../../src/controller/kube.ts';
import { example, exampleArg, repoRoot } from '../support/paths.ts';
import { accepted, ApiServer, byController, controllerFor, eventually, haveApiServer, isWrite, runProcess, SERGO_CLI, sleep, TEST_PLUGIN } from './support.ts';

const available = haveApiServer('test/k8s/controller.test.ts');
const RLS = 'http://sergo-rls.sergo-system.svc.cluster.local:8080';
const RLS_CLUSTER = 'outbound|8080||sergo-rls.sergo-system.svc.cluster.local';

/** What `sergo translate --format istio` emits for the same file: the WasmPlugin the controller must write. */
async function translated(file: string, namespace: string, more: string[] = []): Promise<{ spec: Record<string, unknown> }> {
  const run = await runProcess(process.execPath, [SERGO_CLI, 'translate', file, '--format', 'istio', '--namespace', namespace, '--url', TEST_PLUGIN.url, ...more], undefined, repoRoot);
  if (!run.ok) throw new Error(run.stderr);
  return parse(run.stdout) as { spec: Record<string, unknown> };
}

describe.skipIf(!available)('sergo controller: OpenSergo objects → WasmPlugins', () => {
  let api: ApiServer;
  let controller: ControllerHandle;

  beforeAll(async () => {
    api = await ApiServer.start();
    await api.installCrds();
    for (const ns of ['shop', 'prod', 'demo']) await api.kubectl(['create', 'namespace', ns]);
    controller = await controllerFor(api, { translate: { rateLimitService: { cluster: RLS_CLUSTER, authority: 'sergo-rls.sergo-system.svc.cluster.local' } } });
    await controller.synced;
  }, 120_000);

  afterAll(async () => {
    await controller?.close();
    await api?.stop();
  });

  const plugin = (name: string, ns: string) => api.find<any>('wasmplugins', name, ns); // eslint-disable-line @typescript-eslint/no-explicit-any
  const object = (kind: string, name: string, ns: string) => api.find(kind, name, ns);

  it('applies OpenSergo\'s examples unchanged and writes the WasmPlugin that sergo translate gives', async () => {
    const sample = 'control-plane-samples/opensergo_new_sample.yaml';
    const combined = 'fault-tolerance/zh-combined-rule-ratelimit-fallback.yaml'; // namespace prod, limitMode Global
    const sentinel = 'sentinel-demo/opensergo_cr_sample.yml';
    await api.kubectl(['apply', '-n', 'shop', '-f', example(sample)]);
    await api.kubectl(['apply', '-n', 'prod', '-f', example(combined)]); // its rule says namespace prod; the others say none
    await api.kubectl(['apply', '-n', 'demo', '-f', example(sentinel)]);

    const foo = await eventually(async () => await plugin('sergo-foo-app', 'shop'), 20_000, 'WasmPlugin shop/sergo-foo-app');
    expect(foo.spec).toEqual((await translated(exampleArg(sample), 'shop')).spec);
    const mine = await eventually(async () => await plugin('sergo-my-app', 'prod'), 20_000, 'WasmPlugin prod/sergo-my-app');
    expect(mine.spec).toEqual((await translated(exampleArg(combined), 'prod', ['--rls', RLS])).spec);
    const demo = await eventually(async () => await plugin('sergo-foo-app', 'demo'), 20_000, 'WasmPlugin demo/sergo-foo-app');
    expect(demo.spec).toEqual((await translated(exampleArg(sentinel), 'demo')).spec);

    expect(foo.spec.selector).toEqual({ matchLabels: { app: 'foo-app' } });
    expect(foo.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'sergo-controller', 'sergo.opensergo.io/app': 'foo-app' });
    const owners = (foo.metadata.ownerReferences as Array<{ kind: string; name: string }>).map((o) => `${o.kind}/${o.name}`).sort();
    expect(owners).toEqual(['FaultToleranceRule/my-opensergo-rule-1', 'FaultToleranceRule/my-opensergo-rule-2']);

    await controller.idle();
    const rule = await object('faulttolerancerules', 'my-opensergo-rule-1', 'shop');
    expect(accepted(rule)).toMatchObject({ status: 'True', reason: 'Accepted', observedGeneration: 1 });
    expect(rule?.status?.observedGeneration).toBe(1);
    expect(rule?.status?.wasmPlugin).toBe('sergo-foo-app');
    const unused = await object('throttlingstrategies', 'throttling-foo', 'shop');
    expect(accepted(unused)).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(unused?.status?.problems).toEqual([{ severity: 'warning', field: 'metadata.name', message: 'not referenced by any FaultToleranceRule; nothing enforces it' }]);
    const events = await api.getJson<{ items: Array<{ reason: string; type: string }> }>(['events', '-n', 'shop', '--field-selector', 'involvedObject.name=my-opensergo-rule-1']);
    expect(events.items.map((e) => `${e.type}/${e.reason}`)).toEqual(['Normal/Accepted']);
  });

  it('updates the WasmPlugin once when a threshold is edited', async () => {
    await controller.idle();
    const before = (await plugin('sergo-foo-app', 'shop'))!;
    const since = Date.now();
    await api.kubectl(['patch', 'ratelimitstrategy', 'rate-limit-foo', '-n', 'shop', '--type', 'merge', '-p', '{"spec":{"threshold":7}}']);
    const after = await eventually(async () => {
      const p = await plugin('sergo-foo-app', 'shop');
      return p?.spec.pluginConfig.rules[0].strategy.threshold === 7 ? p : undefined;
    }, 20_000, 'threshold 7 in the WasmPlugin');
    expect(after.spec.pluginConfig.rules.map((r: { strategy: { threshold: number } }) => r.strategy.threshold)).toEqual([7, 7]);
    expect(after.metadata.generation).toBe(before.metadata.generation + 1);
    await controller.idle();
    await sleep(500); // room for a second write, which must not come
    const updates = byController(api.audit(since), controller.identity).filter((e) => e.objectRef?.resource === 'wasmplugins' && isWrite(e));
    expect(updates.map((e) => `${e.verb} ${e.objectRef?.name} ${e.responseStatus?.code}`)).toEqual(['update sergo-foo-app 200']);
    expect((await plugin('sergo-foo-app', 'shop'))!.metadata.resourceVersion).toBe(after.metadata.resourceVersion);
    expect(accepted(await object('ratelimitstrategies', 'rate-limit-foo', 'shop'))).toMatchObject({ status: 'True', observedGeneration: 2 });
  });

  it('reports a broken rule with its field path and keeps the last good WasmPlugin', async () => {
    await controller.idle();
    const good = (await plugin('sergo-foo-app', 'shop'))!;
    await api.kubectl(['patch', 'faulttolerancerule', 'my-opensergo-rule-1', '-n', 'shop', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/strategies/0/name","value":"no-such-limit"}]']);
    const broken = await eventually(async () => {
      const r = await object('faulttolerancerules', 'my-opensergo-rule-1', 'shop');
      return accepted(r)?.reason === 'Invalid' ? r : undefined;
    }, 20_000, 'Accepted=False, Invalid');
    expect(accepted(broken)).toMatchObject({ status: 'False', reason: 'Invalid', observedGeneration: 2 });
    expect(accepted(broken)!.message).toBe('spec.strategies[0].name: unknown RateLimitStrategy no-such-limit in namespace shop');
    expect(broken!.status.problems).toEqual([{ severity: 'error', field: 'spec.strategies[0].name', message: 'unknown RateLimitStrategy no-such-limit in namespace shop' }]);
    // The other rule of the app is valid, but its app keeps its last good configuration.
    const sibling = await eventually(async () => {
      const r = await object('faulttolerancerules', 'my-opensergo-rule-2', 'shop');
      return accepted(r)?.reason === 'AppInvalid' ? r : undefined;
    });
    expect(accepted(sibling)!.message).toBe('app foo-app keeps its last good configuration: FaultToleranceRule/my-opensergo-rule-1 is invalid');
    const warning = await api.getJson<{ items: Array<{ reason: string; type: string; message: string }> }>(['events', '-n', 'shop', '--field-selector', 'involvedObject.name=my-opensergo-rule-1,reason=Invalid']);
    expect(warning.items.map((e) => [e.type, e.message])).toEqual([['Warning', 'spec.strategies[0].name: unknown RateLimitStrategy no-such-limit in namespace shop']]);
    await controller.idle();
    expect((await plugin('sergo-foo-app', 'shop'))!.metadata.resourceVersion).toBe(good.metadata.resourceVersion);

    // A strategy the app uses that breaks in a way the schema cannot see (longer than the filter holds).
    await api.kubectl(['patch', 'throttlingstrategy', 'throttling-foo', '-n', 'shop', '--type', 'merge', '-p', '{"spec":{"queueTimeout":"30d"}}']);
    await api.kubectl(['patch', 'faulttolerancerule', 'my-opensergo-rule-1', '-n', 'shop', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/strategies/0","value":{"name":"throttling-foo","kind":"ThrottlingStrategy"}}]']);
    const throttling = await eventually(async () => {
      const s = await object('throttlingstrategies', 'throttling-foo', 'shop');
      return accepted(s)?.reason === 'Invalid' ? s : undefined;
    });
    expect(throttling!.status.problems[0]).toMatchObject({ severity: 'error', field: 'spec.queueTimeout' });
    const referring = await eventually(async () => {
      const r = await object('faulttolerancerules', 'my-opensergo-rule-1', 'shop');
      return accepted(r)?.message.includes('throttling') ? r : undefined;
    });
    expect(accepted(referring)).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(accepted(referring)!.message).toBe('spec.strategies[0].name: refers to ThrottlingStrategy/throttling-foo, which is invalid (see its status)');
    await controller.idle();
    expect((await plugin('sergo-foo-app', 'shop'))!.metadata.resourceVersion).toBe(good.metadata.resourceVersion);

    // Fixed: the new configuration is written and every object is Accepted again.
    await api.kubectl(['patch', 'throttlingstrategy', 'throttling-foo', '-n', 'shop', '--type', 'merge', '-p', '{"spec":{"queueTimeout":"60ms"}}']);
    const fixed = await eventually(async () => {
      const p = await plugin('sergo-foo-app', 'shop');
      return p?.spec.pluginConfig.rules.some((r: { strategy: { kind: string } }) => r.strategy.kind === 'Throttling') ? p : undefined;
    });
    expect(fixed.spec).toEqual((await translatedFromCluster(api, 'shop')).spec);
    await controller.idle();
    for (const name of ['my-opensergo-rule-1', 'my-opensergo-rule-2']) {
      expect(accepted(await object('faulttolerancerules', name, 'shop'))).toMatchObject({ status: 'True', reason: 'Accepted' });
    }
  });

  it('restores a WasmPlugin edited by hand, and retries an update refused with 409 Conflict', async () => {
    await controller.idle();
    const written = (await plugin('sergo-foo-app', 'shop'))!;
    await api.kubectl(['patch', 'wasmplugin', 'sergo-foo-app', '-n', 'shop', '--type', 'merge', '-p', '{"spec":{"url":"oci://example.com/someone-else:1"}}']);
    await eventually(async () => (await plugin('sergo-foo-app', 'shop'))?.spec.url === TEST_PLUGIN.url, 20_000, 'the url restored');
    await controller.idle();

    // The controller's write path with a stale copy: the API server answers 409, it re-reads and retries.
    const kube = connect({ kubeconfig: api.kubeconfig, userAgent: 'sergo-test' });
    const writer = new Writer(kube, new TokenBucket(100, 100), controller.metrics);
    const conflicts = async () => (await controller.metrics.conflicts.get()).values.reduce((n, v) => n + v.value, 0);
    const before = await conflicts();
    const stale = { ...written, metadata: { ...written.metadata } };
    const result = await writer.replacePlugin(stale as Plugin, (fresh) => ({ ...fresh, metadata: { ...fresh.metadata, annotations: { 'sergo.test/touched': 'yes' } } }));
    expect(result?.metadata?.annotations).toEqual({ 'sergo.test/touched': 'yes' });
    expect(await conflicts()).toBe(before + 1);
  });

  it('deletes the WasmPlugin when the app\'s last FaultToleranceRule is deleted', async () => {
    await controller.idle();
    await api.kubectl(['delete', 'faulttolerancerule', 'my-opensergo-rule-2', '-n', 'shop']);
    const one = await eventually(async () => {
      const p = await plugin('sergo-foo-app', 'shop');
      return p?.metadata.ownerReferences.length === 1 ? p : undefined;
    });
    expect(one.spec.pluginConfig.rules.map((r: { id: string }) => r.id)).toEqual(['shop/foo-app/my-opensergo-rule-1/ThrottlingStrategy/throttling-foo@GET:/fooa']);
    await api.kubectl(['delete', 'faulttolerancerule', 'my-opensergo-rule-1', '-n', 'shop']);
    await eventually(async () => await plugin('sergo-foo-app', 'shop') === undefined, 20_000, 'WasmPlugin shop/sergo-foo-app deleted');
    // Strategies stay; nothing refers to them now.
    expect(accepted(await object('ratelimitstrategies', 'rate-limit-foo', 'shop'))).toMatchObject({ status: 'True' });
    expect(await plugin('sergo-my-app', 'prod')).toBeDefined();
  });
});

/** `sergo translate --format istio` of what the namespace holds now (kubectl get -o yaml, as a user would feed it). */
async function translatedFromCluster(api: ApiServer, namespace: string): Promise<{ spec: Record<string, unknown> }> {
  const kinds = 'faulttolerancerules,ratelimitstrategies,throttlingstrategies,concurrencylimitstrategies,circuitbreakerstrategies,httprequestfallbackactions';
  const file = join(api.dataDir, `${namespace}-objects.yaml`);
  writeFileSync(file, await api.kubectl(['get', kinds, '-n', namespace, '-o', 'yaml']));
  return translated(file, namespace);
}

