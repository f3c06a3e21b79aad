// What traffic lanes cost in real Envoy (docs/traffic.md, "Cost"): the pinned release with
// --concurrency 1 in front of a fast upstream (a second Envoy answering from its route), under
// closed-loop load from wrk (else autocannon): sergo with no rules, then with lanes where no request
// is coloured, and where every request is (header and baggage written). Envoy's CPU µs per request
// (/proc/<pid>/stat) and requests/s, interleaved rounds, medians with min–max. Standalone:
//   npx tsx bench/lanes-envoy.ts [seconds per round, default 5] [rounds, default 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyBinary, launchEnvoy, type LaunchedEnvoy } from '../src/envoy/index.ts';
import { autocannonGenerator, startUpstreamEnvoy, wrkGenerator } from './lib/envoy.ts';
import { processCpuSeconds } from './lib/processes.ts';
import { summarize } from './lib/stats.ts';

const PATH = '/bench/items';
const lane = (prefix: string) => `apiVersion: traffic.opensergo.io/v1alpha1
kind: TrafficLane
metadata: { name: gray }
spec:
  selector: { app: bench }
  rules:
    traffic: { http: [{ uri: { prefix: ${prefix} }, method: { exact: GET } }, { headers: { x-user-id: { exact: "12345" } } }] }
    workload: { selector: { version: v2 } }
    lane: { name: gray }
`;
const CASES = [
  { name: 'sergo, no rules (baseline)', rules: '', args: ['--allow-empty', '--app', 'bench'] },
  { name: 'sergo, lanes, request in no lane (2 blocks compared)', rules: lane('/nomatch'), args: ['--app', 'bench'] },
  { name: 'sergo, lanes, every request coloured', rules: lane('/bench'), args: ['--app', 'bench'] },
];

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);
const binary = envoyBinary(false).path;
if (binary === undefined) throw new Error('no Envoy binary: scripts/envoy.sh installs it');
const dir = mkdtempSync(join(tmpdir(), 'sergo-bench-lanes-'));
const load = (await wrkGenerator(dir)) ?? autocannonGenerator();
const upstream = await startUpstreamEnvoy(binary, dir);
const envoys: LaunchedEnvoy[] = [];
try {
  for (const c of CASES) envoys.push(await launchEnvoy({ rules: { text: c.rules }, upstream: upstream.url, concurrency: 1, translateArgs: c.args }));
  const cpu: number[][] = CASES.map(() => []);
  const rps: number[][] = CASES.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < CASES.length; i++) {
      const e = envoys[i]!;
      const pid = e.envoy.pid!;
      const before = processCpuSeconds(pid);
      const result = await load.run(`${e.url}${PATH}`, seconds, 10);
      if (result.failed > 0) throw new Error(`${CASES[i]!.name}: ${result.failed} failed requests`);
      cpu[i]!.push(((processCpuSeconds(pid) - before) * 1e6) / result.requests);
      rps[i]!.push(result.requests / result.seconds);
    }
  }
  const floor = summarize(cpu[0]!).median;
  console.log(`| case (${load.name}, ${rounds} rounds × ${seconds} s) | Envoy CPU µs / request | ratio | requests/s |`);
  console.log('|---|---|---|---|');
  CASES.forEach((c, i) => {
    const s = summarize(cpu[i]!);
    const q = summarize(rps[i]!);
    console.log(`| ${c.name} | ${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)}) | ${(s.median / floor).toFixed(2)} | ${q.median.toFixed(0)} |`);
  });
} finally {
  for (const e of envoys) await e.stop();
  await upstream.envoy.stop();
  rmSync(dir, { recursive: true, force: true });
}
