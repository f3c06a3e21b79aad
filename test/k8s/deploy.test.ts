// deploy/: the CRDs and the controller's manifests, applied to the real API server and accepted; the
// controller then runs as its ServiceAccount (a token from the TokenRequest API) with the
// manifest's own arguments, and its least-privilege RBAC is enough — and no more than needed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderCrds } from '../../src/cli/controller.ts';
import { example, repoRoot } from '../support/paths.ts';
import { accepted, apiServerBinary, ApiServer, ControllerProcess, CRDS, eventually, haveApiServer, runProcess, WASM_PLUGIN_CRD } from './support.ts';

const available = haveApiServer('test/k8s/deploy.test.ts');
const MANIFESTS = join(repoRoot, 'deploy/controller.yaml');
const SA_USER = 'system:serviceaccount:sergo-system:sergo-controller';

describe.skipIf(!available)('deploy/: CRDs, RBAC and the Deployment in a real API server', () => {
  let api: ApiServer;
  let saKubeconfig: string;

  beforeAll(async () => {
    api = await ApiServer.start();
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
  });

  const can = async (args: string[]) => (await runProcess(apiServerBinary().path!, ['kubectl', '--kubeconfig', saKubeconfig, 'auth', 'can-i', ...args])).stdout.trim();

  it('deploy/crds.yaml is what `sergo controller crds` prints', () => {
    expect(readFileSync(CRDS, 'utf8')).toBe(renderCrds());
  });

  it('applies the CRDs and the controller manifests; the API server accepts every object', async () => {
    const out = await api.kubectl(['apply', '-f', CRDS, '-f', WASM_PLUGIN_CRD, '-f', MANIFESTS]);
    const applied = out.trim().split('\n').map((l) => l.split(' ')[0]);
    expect(applied).toEqual(expect.arrayContaining([
      'namespace/sergo-system',
      'serviceaccount/sergo-controller',
      'clusterrole.rbac.authorization.k8s.io/sergo-controller',
      'clusterrolebinding.rbac.authorization.k8s.io/sergo-controller',
      'role.rbac.authorization.k8s.io/sergo-controller-lease',
      'rolebinding.rbac.authorization.k8s.io/sergo-controller-lease',
      'deployment.apps/sergo-controller',
    ]));
    const manifest = parseAllDocuments(readFileSync(MANIFESTS, 'utf8')).map((d) => d.toJS()).filter((d) => d !== null);
    expect(applied.length).toBe(manifest.length + 7);
    await api.kubectl(['wait', '--for', 'condition=established', '--timeout=60s', 'crd', '--all']);
    const deployment = await api.getJson(['deployment', 'sergo-controller', '-n', 'sergo-system']);
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.serviceAccountName).toBe('sergo-controller');

    const token = (await api.kubectl(['create', 'token', 'sergo-controller', '-n', 'sergo-system', '--duration', '1h'])).trim();
    const admin = await api.kubectl(['config', 'view', '--raw', '--minify', '-o', 'json']);
    const cluster = JSON.parse(admin).clusters[0];
    saKubeconfig = join(api.dataDir, 'sa-kubeconfig');
    writeFileSync(saKubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', clusters: [cluster], 'current-context': 'sa',
      contexts: [{ name: 'sa', context: { cluster: cluster.name, user: 'sa' } }], users: [{ name: 'sa', user: { token } }],
    }));
  });

  it('grants the ServiceAccount what the controller needs, and nothing else', async () => {
    const allowed = [
      ['list', 'faulttolerancerules.fault-tolerance.opensergo.io', '-A'],
      ['watch', 'httprequestfallbackactions.fault-tolerance.opensergo.io', '-A'],
      ['patch', 'ratelimitstrategies.fault-tolerance.opensergo.io', '--subresource=status', '-n', 'team'],
      ['create', 'wasmplugins.extensions.istio.io', '-n', 'team'],
      ['update', 'wasmplugins.extensions.istio.io', '-n', 'team'],
      ['delete', 'wasmplugins.extensions.istio.io', '-n', 'team'],
      ['create', 'events', '-n', 'team'],
      ['create', 'leases.coordination.k8s.io', '-n', 'sergo-system'],
      ['update', 'leases.coordination.k8s.io/sergo-controller', '-n', 'sergo-system'],
    ];
    const denied = [
      ['update', 'faulttolerancerules.fault-tolerance.opensergo.io', '-n', 'team'],
      ['delete', 'ratelimitstrategies.fault-tolerance.opensergo.io', '-n', 'team'],
      ['create', 'faulttolerancerules.fault-tolerance.opensergo.io', '-n', 'team'],
      ['get', 'secrets', '-n', 'sergo-system'],
      ['list', 'configmaps', '-A'],
      ['update', 'leases.coordination.k8s.io/other', '-n', 'sergo-system'],
      ['create', 'leases.coordination.k8s.io', '-n', 'team'],
      ['patch', 'wasmplugins.extensions.istio.io', '--subresource=status', '-n', 'team'],
      ['delete', 'events', '-n', 'team'],
      ['create', 'envoyfilters.networking.istio.io', '-n', 'team'],
    ];
    for (const args of allowed) expect(`${args.join(' ')}: ${await can(args)}`).toBe(`${args.join(' ')}: yes`);
    for (const args of denied) expect(`${args.join(' ')}: ${await can(args)}`).toBe(`${args.join(' ')}: no`);
  });

  it('runs as the ServiceAccount with the Deployment\'s arguments: WasmPlugins, statuses, Events, the Lease; never refused', async () => {
    const manifest = parseAllDocuments(readFileSync(MANIFESTS, 'utf8')).map((d) => d.toJS()).find((d) => d?.kind === 'Deployment');
    const container = manifest.spec.template.spec.containers[0];
    expect(container.args[0]).toBe('controller');
    const since = Date.now();
    await api.kubectl(['create', 'namespace', 'team']);
    await api.kubectl(['apply', '-n', 'team', '-f', example('control-plane-samples/opensergo_new_sample.yaml')]);
    const controller = new ControllerProcess('sergo-controller-7d9f-x2k4', [...container.args.slice(1), '--kubeconfig', saKubeconfig, '--admin', '127.0.0.1:0'], { POD_NAMESPACE: 'sergo-system' });
    try {
      const plugin = await eventually(() => api.find<any>('wasmplugins', 'sergo-foo-app', 'team'), 30_000, `WasmPlugin team/sergo-foo-app:\n${controller.logs()}`); // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(plugin.spec.url).toBe(container.args.find((a: string) => a.startsWith('--url=')).slice('--url='.length));
      await eventually(async () => accepted(await api.find('faulttolerancerules', 'my-opensergo-rule-1', 'team'))?.status === 'True', 30_000, 'Accepted');
      const events = await api.getJson<{ items: unknown[] }>(['events', '-n', 'team', '--field-selector', 'reason=Accepted']);
      expect(events.items.length).toBe(6);
      const lease = await api.find<any>('leases', 'sergo-controller', 'sergo-system'); // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(lease.spec.holderIdentity).toBe('sergo-controller-7d9f-x2k4');
      const mine = api.audit(since).filter((e) => e.user.username === SA_USER);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.filter((e) => e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.objectRef?.resource}`)).toEqual([]);
      expect(controller.logs()).not.toMatch(/forbidden|\b403\b/i);
    } finally {
      await controller.stop();
    }
  });
});
