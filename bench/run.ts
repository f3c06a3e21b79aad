// `npm run bench`: decision cost per request through src/host, side by side in one run, as ratios
// to the empty module (the same bindings and build flags, a filter that does nothing).
// Output: a markdown table on stdout and bench/results.json. `--quick` for a short run.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { compileModule, ProxyWasmHost, ManualClock } from '../src/host/index.ts';

const root = join(import.meta.dirname, '..');
const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 7;
const REQUESTS = quick ? 20_000 : 100_000;

const sergoBytes = readFileSync(join(root, 'build', 'sergo.wasm'));
const sergo = compileModule(sergoBytes);
const empty = compileModule(readFileSync(join(root, 'build', 'empty.wasm')));

type Rule = { id: string; resource: string; strategy: Record<string, unknown> };
const never = {
  RateLimit: { kind: 'RateLimit', threshold: 2_000_000_000, windowMs: 1000 },
  Throttling: { kind: 'Throttling', intervalMs: 0, queueTimeoutMs: 1000 },
  ConcurrencyLimit: { kind: 'ConcurrencyLimit', maxConcurrency: 1_000_000 },
  CircuitBreaker: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 1, statDurationMs: 10_000, recoveryTimeoutMs: 1000, minRequestAmount: 1_000_000 },
} as const;

function resources(n: number, template: boolean): Rule[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `bench/r${i}`, resource: template ? `GET:/api/v${i}/items/{id}` : `GET:/api/v${i}/items`, strategy: never.RateLimit,
  }));
}

interface Case { name: string; module: WebAssembly.Module; rules?: Rule[]; vms: number; path: string }
const cases: Case[] = [
  { name: 'empty module (floor)', module: empty, vms: 1, path: '/api/v0/items' },
  { name: 'sergo, no rules', module: sergo, rules: [], vms: 1, path: '/api/v0/items' },
  { name: 'sergo, 1 rule, request not matched', module: sergo, rules: resources(1, false), vms: 1, path: '/other' },
  { name: 'sergo, RateLimit (1 resource)', module: sergo, rules: resources(1, false), vms: 1, path: '/api/v0/items' },
  { name: 'sergo, Throttling (1 resource)', module: sergo, rules: [{ id: 't', resource: '/api/v0/items', strategy: never.Throttling }], vms: 1, path: '/api/v0/items' },
  { name: 'sergo, ConcurrencyLimit (1 resource)', module: sergo, rules: [{ id: 'c', resource: '/api/v0/items', strategy: never.ConcurrencyLimit }], vms: 1, path: '/api/v0/items' },
  { name: 'sergo, CircuitBreaker (1 resource)', module: sergo, rules: [{ id: 'b', resource: '/api/v0/items', strategy: never.CircuitBreaker }], vms: 1, path: '/api/v0/items' },
  ...[1, 4].map((vms) => ({
    name: `sergo, all four on 1 resource, ${vms} VM${vms > 1 ? 's' : ''}`, module: sergo, vms, path: '/api/v0/items',
    rules: Object.entries(never).map(([k, s]) => ({ id: `all/${k}`, resource: '/api/v0/items', strategy: s })),
  })),
  { name: 'sergo, 1,000 exact resources', module: sergo, rules: resources(1000, false), vms: 1, path: '/api/v500/items' },
  { name: 'sergo, 10,000 exact resources', module: sergo, rules: resources(10_000, false), vms: 1, path: '/api/v5000/items' },
  { name: 'sergo, 1,000 template resources', module: sergo, rules: resources(1000, true), vms: 1, path: '/api/v500/items/42' },
  { name: 'sergo, 10,000 template resources', module: sergo, rules: resources(10_000, true), vms: 1, path: '/api/v5000/items/42' },
];

const REQUEST_HEADERS = [[':method', 'GET'], [':path', ''], [':authority', 'svc'], [':scheme', 'http'], ['user-agent', 'bench']] as [string, string][];
const RESPONSE_HEADERS: [string, string][] = [[':status', '200'], ['content-length', '2']];

/** ns per full lifecycle: create → request_headers → response_headers → log → done → delete. */
function measure(c: Case): number {
  const clock = new ManualClock();
  const host = new ProxyWasmHost({ module: c.module, vms: c.vms, clock, configuration: JSON.stringify({ version: 1, rules: c.rules ?? [] }) });
  if (!host.start() && c.rules) throw new Error(`${c.name}: configuration refused`);
  const headers = REQUEST_HEADERS.map(([k, v]) => [k, k === ':path' ? c.path : v] as [string, string]);
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const s = host.stream();
      s.requestHeaders(headers);
      s.responseHeaders(RESPONSE_HEADERS);
      s.finish();
      if ((i & 1023) === 0) clock.advance(1);
    }
  };
  run(Math.min(5000, REQUESTS / 4));   // warm-up (JIT, pools)
  const start = process.hrtime.bigint();
  run(REQUESTS);
  const ns = Number(process.hrtime.bigint() - start) / REQUESTS;
  if (host.vms.some((vm) => vm.failed)) throw new Error(`${c.name}: a VM failed`);
  host.close();
  return ns;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let r = 0; r < RUNS; r++) {
  for (const c of cases) samples.get(c.name)!.push(measure(c));   // interleaved: noise hits all cases alike
  process.stderr.write(`run ${r + 1}/${RUNS} done\n`);
}

const floor = median(samples.get(cases[0].name)!);
const rows = cases.map((c) => {
  const xs = samples.get(c.name)!;
  return { name: c.name, unit: 'ns/request', median: median(xs), min: Math.min(...xs), max: Math.max(...xs), baseline: cases[0].name, ratio: median(xs) / floor };
});
const size = { name: 'build/sergo.wasm size', raw: sergoBytes.length, gzip: gzipSync(sergoBytes, { level: 9 }).length, unit: 'bytes' };

const lines = [
  `Decision cost per request (full lifecycle through src/host on V8, Node ${process.version}; ${REQUESTS.toLocaleString('en')} requests × ${RUNS} runs, median [min–max])`,
  '',
  '| case | ns/request | min–max | × floor |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(0)} | ${r.min.toFixed(0)}–${r.max.toFixed(0)} | ${r.ratio.toFixed(2)} |`),
  '',
  `Release module: ${size.raw.toLocaleString('en')} bytes (${size.gzip.toLocaleString('en')} gzip -9).`,
];
console.log(lines.join('\n'));
writeFileSync(join(root, 'bench', 'results.json'), JSON.stringify({
  date: new Date().toISOString(), node: process.version, quick, runs: RUNS, requestsPerRun: REQUESTS, decisionCost: rows, moduleSize: size,
}, null, 2) + '\n');
