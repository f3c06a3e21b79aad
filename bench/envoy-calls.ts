// What one host call costs in real Envoy (not part of `npm run bench`; bench/README.md "The cost of a
// host call in Envoy"): bench/wasm/calls.ts, built with the empty module's flags, makes N calls of
// one kind in every request's headers callback. Per kind, Envoy's CPU per request with N calls and
// with none (the same module, "none 0"), rounds interleaved; cost per call = (with − without) ÷ N.
// In the same rounds, sergo (build/sergo.wasm) with no rules, RateLimit alone and all four on one
// resource, for comparing what their host calls should cost with what they cost.
//   npx tsx bench/envoy-calls.ts [calls per request, default 64] [seconds per round, default 3] [rounds, default 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyBinary, launchEnvoy, type LaunchedEnvoy } from '../src/envoy/index.ts';
import { autocannonGenerator, startUpstreamEnvoy, withPluginConfiguration, wrkGenerator } from './lib/envoy.ts';
import { benchWasm } from './lib/modules.ts';
import { KINDS as STRATEGIES, permissiveYaml } from './lib/rules.ts';
import { processCpuSeconds } from './lib/processes.ts';
import { summarize } from './lib/stats.ts';

const n = Number(process.argv[2] ?? 64);
const seconds = Number(process.argv[3] ?? 3);
const rounds = Number(process.argv[4] ?? 5);
const KINDS = ['none', 'clock', 'header', 'get', 'getcasset', 'metric', 'status', 'logpair'] as const;
const ABOUT: Record<(typeof KINDS)[number], string> = {
  none: 'the module with no call (baseline)',
  clock: 'proxy_get_current_time_nanoseconds',
  header: 'proxy_get_header_map_value(":path") (the value copied in through the module\'s malloc)',
  get: 'proxy_get_shared_data of a 64-byte value (copied in through malloc)',
  getcasset: 'proxy_get_shared_data + proxy_set_shared_data with its cas (a pair: what a check costs)',
  metric: 'proxy_increment_metric',
  status: 'proxy_get_header_map_value(":status") in the response headers\' callback',
  logpair: 'the get + CAS set pair at the stream\'s end (on_log)',
};

const module = benchWasm('calls');

const binary = envoyBinary(false).path;
if (binary === undefined) throw new Error('no Envoy binary: scripts/envoy.sh installs it');
const dir = mkdtempSync(join(tmpdir(), 'sergo-bench-calls-'));
const load = (await wrkGenerator(dir)) ?? autocannonGenerator();
const upstream = await startUpstreamEnvoy(binary, dir);
const cases = KINDS.map((kind) => ({ kind, config: kind === 'none' ? 'none 0' : `${kind} ${n}` }));
const SERGO = [
  { name: 'sergo, no rules', rules: '' },
  { name: 'sergo, RateLimit alone (4 calls: :path, clock, get, CAS set)', rules: permissiveYaml(['RateLimit'], '/bench/items') },
  { name: 'sergo, all four on one resource (8 calls: those 4, :status, clock, get, CAS set)', rules: permissiveYaml(STRATEGIES, '/bench/items') },
];
const envoys: LaunchedEnvoy[] = [];
try {
  for (const c of cases) {
    envoys.push(await launchEnvoy({
      rules: { text: '' }, upstream: upstream.url, concurrency: 1, module, rewrite: withPluginConfiguration(c.config),
      translateArgs: ['--allow-empty', '--app', 'bench'],
    }));
  }
  for (const c of SERGO) {
    envoys.push(await launchEnvoy({ rules: { text: c.rules }, upstream: upstream.url, concurrency: 1, translateArgs: ['--allow-empty', '--app', 'bench'] }));
  }
  const names = [...cases.map((c) => c.config), ...SERGO.map((c) => c.name)];
  const cpu: number[][] = envoys.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < envoys.length; i++) {
      const pid = envoys[i]!.envoy.pid!;
      const before = processCpuSeconds(pid);
      const result = await load.run(`${envoys[i]!.url}/bench/items`, seconds, 10);
      if (result.failed > 0) throw new Error(`${names[i]}: ${result.failed} failed requests`);
      cpu[i]!.push(((processCpuSeconds(pid) - before) * 1e6) / result.requests);
    }
    process.stderr.write(`round ${r + 1}/${rounds}\n`);
  }
  const base = summarize(cpu[0]!).median;
  console.log(`| call (${n} per request; ${load.name}, ${rounds} rounds × ${seconds} s, Envoy --concurrency 1) | Envoy CPU µs/request, median (min–max) | µs per call |`);
  console.log('|---|---:|---:|');
  cases.forEach((c, i) => {
    const s = summarize(cpu[i]!);
    const per = c.kind === 'none' ? '—' : ((s.median - base) / n).toFixed(2);
    console.log(`| ${ABOUT[c.kind]} | ${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)}) | ${per} |`);
  });
  SERGO.forEach((c, j) => {
    const s = summarize(cpu[cases.length + j]!);
    console.log(`| ${c.name} | ${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)}) | ${(s.median - base).toFixed(1)} µs above the baseline |`);
  });
} finally {
  for (const e of envoys) await e.stop();
  await upstream.envoy.stop();
  rmSync(dir, { recursive: true, force: true });
}
