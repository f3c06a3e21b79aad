// Measurements of sergo controller against the test API server (not a test: nothing is asserted).
//   npx tsx test/k8s/measure.ts [--rounds 20]
// 1. apply → WasmPlugin: from the start of `kubectl apply` of a new rule (strategy + FaultToleranceRule
//    of a new app) to the moment a watch delivers its WasmPlugin, and from a threshold edit (kubectl
//    patch) to the updated WasmPlugin; median of N. The controller runs as the real CLI.
// 2. steady state: API requests per minute with the default lease settings (lease 15 s, renewed
//    every 5 s), leader and standby, counted by the API server's audit log over 60 s.
import { hostname } from 'node:os';
import { Watch } from '@kubernetes/client-node';
import { connect } from '../../src/controller/kube.ts';
import { ApiServer, byController, ControllerProcess, eventually, sleep, TEST_PLUGIN } from './support.ts';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 20) || 20;

function rule(app: string, threshold: number): string {
  return `apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: RateLimitStrategy
metadata: { name: ${app}, labels: { app: ${app} } }
spec: { metricType: RequestAmount, limitMode: Local, threshold: ${threshold}, statDurationSeconds: 1 }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: ${app}, labels: { app: ${app} } }
spec:
  targets: [{ targetResourceName: 'GET:/${app}' }]
  strategies: [{ name: ${app}, kind: RateLimitStrategy }]
`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const api = await ApiServer.start();
  await api.installCrds();
  await api.kubectl(['create', 'namespace', 'measure']);
  // The default lease (15 s, renewed every 5 s) and write pacing, as deploy/controller.yaml runs it.
  const defaults = ['--kubeconfig', api.kubeconfig, '--url', TEST_PLUGIN.url, '--lease-namespace', 'default', '--admin', '127.0.0.1:0', '--namespace', 'measure'];
  const leader = new ControllerProcess('measure-leader', defaults);
  await eventually(async () => (await api.find<any>('leases', 'sergo-controller', 'default'))?.spec.holderIdentity === 'measure-leader', 30_000, 'leading'); // eslint-disable-line @typescript-eslint/no-explicit-any
  const standby = new ControllerProcess('measure-standby', defaults);
  await eventually(() => standby.logs().includes('watching namespace measure'), 30_000, 'standby synced');

  // The WasmPlugins as a watch delivers them: the moment each version arrives, without polling.
  const seen = new Map<string, number>();
  const kube = connect({ kubeconfig: api.kubeconfig, userAgent: 'sergo-measure' });
  const watch = await new Watch(kube.config).watch('/apis/extensions.istio.io/v1alpha1/namespaces/measure/wasmplugins', {}, (_phase, obj) => {
    const threshold = obj?.spec?.pluginConfig?.rules?.[0]?.strategy?.threshold;
    seen.set(`${obj.metadata.name}@${threshold}`, performance.now());
  }, () => undefined);
  const arrival = (key: string) => eventually(() => seen.get(key), 30_000, key);
  const created: number[] = [];
  const edited: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const app = `app-${i}`;
    let t = performance.now();
    await api.apply(rule(app, 5), 'measure');
    created.push((await arrival(`sergo-${app}@5`)) - t);
    t = performance.now();
    await api.kubectl(['patch', 'ratelimitstrategy', app, '-n', 'measure', '--type', 'merge', '-p', '{"spec":{"threshold":6}}']);
    edited.push((await arrival(`sergo-${app}@6`)) - t);
  }
  watch.abort();
  // kubectl itself (a process start and one request) is part of each sample: measured alone too.
  const kubectlAlone: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await api.kubectl(['get', 'namespace', 'measure', '-o', 'name']);
    kubectlAlone.push(performance.now() - t);
  }
  await sleep(5000);
  const since = Date.now();
  await sleep(60_000);
  const minute = api.audit(since);
  const describe = (id: string) => {
    const made = byController(minute, id);
    const by = new Map<string, number>();
    for (const e of made) by.set(`${e.verb} ${e.objectRef?.resource}`, (by.get(`${e.verb} ${e.objectRef?.resource}`) ?? 0) + 1);
    return `${made.length} (${[...by].map(([k, v]) => `${v} × ${k}`).join(', ') || 'none'})`;
  };
  console.log(`machine: ${hostname()}, ${rounds} rounds`);
  console.log(`apply → WasmPlugin created: median ${median(created).toFixed(0)} ms (min ${Math.min(...created).toFixed(0)}, max ${Math.max(...created).toFixed(0)})`);
  console.log(`threshold edit → WasmPlugin updated: median ${median(edited).toFixed(0)} ms (min ${Math.min(...edited).toFixed(0)}, max ${Math.max(...edited).toFixed(0)})`);
  console.log(`(one kubectl call alone: median ${median(kubectlAlone).toFixed(0)} ms, included above)`);
  console.log(`steady state, 60 s, ${rounds} apps: leader ${describe('measure-leader')}; standby ${describe('measure-standby')}`);
  await leader.stop();
  await standby.stop();
  await api.stop();
}

await main();
