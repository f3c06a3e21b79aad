// Section 4 — HTTP over loopback (autocannon, same run): the upstream directly; a plain Node reverse
// proxy with no filter (bench/http/plain-proxy.ts, sergo serve's forwarding style); sergo serve with
// no rules; sergo serve with a permissive rule set (all four strategies on the requested path:
// every request checked, none blocked). Requests/s and p50/p99 latency, ratios to the plain proxy.
// The upstream and each proxy run in child processes; autocannon runs in this one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions } from '../lib/options.ts';
import { progress } from '../lib/options.ts';
import { allFour, filterConfig } from '../lib/rules.ts';
import { processCpuSeconds, spawnChild, stopChild, type Child } from '../lib/processes.ts';
import { figure, interleave, ref, type Figure, type Section } from '../lib/stats.ts';

// autocannon ships no type declarations: the part of its API used here.
interface AutocannonResult {
  requests: { average: number; total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
interface AutocannonRun extends PromiseLike<AutocannonResult> {
  /** every response: its status and its time in ms (autocannon's own histogram keeps whole ms only) */
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, ms: number) => void): this;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; pipelining: number; timeout: number }) => AutocannonRun;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const PATH = '/bench/items';
export const CONNECTIONS = 10;

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  /** CPU time of the target process per request, µs (NaN where /proc is not available) */
  cpuUs: number;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function load(port: number, seconds: number, pid?: number): Promise<Sample> {
  const cpu0 = processCpuSeconds(pid);
  let times = new Float64Array(1 << 16);
  let n = 0;
  const run = autocannon({ url: `http://127.0.0.1:${port}${PATH}`, connections: CONNECTIONS, duration: seconds, pipelining: 1, timeout: 10 });
  run.on('response', (_client, status, _bytes, ms) => {
    if (status < 200 || status > 299) return;
    if (n === times.length) {
      const grown = new Float64Array(times.length * 2);
      grown.set(times);
      times = grown;
    }
    times[n++] = ms;
  });
  const r = await run;
  const cpuUs = ((processCpuSeconds(pid) - cpu0) * 1e6) / r.requests.total;
  const sorted = times.subarray(0, n).sort();
  return { rps: r.requests.total / r.duration, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), failed: r.errors + r.timeouts + r.non2xx, cpuUs };
}

/** The filter's own counters from sergo serve's admin /stats: requests passed and blocked by its rules. */
async function ruleCounters(adminPort: number): Promise<{ passed: number; blocked: number }> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).text();
  let passed = 0;
  let blocked = 0;
  for (const line of text.split('\n')) {
    const m = /(requests_passed|requests_blocked): (\d+)$/.exec(line);
    if (m?.[1] === 'requests_passed') passed += Number(m[2]);
    else if (m?.[1] === 'requests_blocked') blocked += Number(m[2]);
  }
  return { passed, blocked };
}

export async function runHttp(opts: BenchOptions): Promise<Section> {
  const rounds = opts.quick ? 2 : 5;
  const seconds = opts.quick ? 1 : 4;
  const warmup = opts.quick ? 0.5 : 2;
  const dir = mkdtempSync(join(tmpdir(), 'sergo-bench-http-'));
  const children: Child[] = [];
  try {
    const permissive = join(dir, 'permissive.json');
    const none = join(dir, 'none.json');
    writeFileSync(permissive, filterConfig(allFour(PATH)));
    writeFileSync(none, filterConfig([]));
    progress('http: starting the upstream and the proxies (child processes)');
    const upstream = await spawnChild('upstream', ['upstream']);
    children.push(upstream);
    const url = `http://127.0.0.1:${upstream.port}`;
    const proxies = await Promise.allSettled([
      spawnChild('plain', ['plain', url]),
      spawnChild('sergo serve, no rules', ['sergo', url, none]),
      spawnChild('sergo serve, permissive', ['sergo', url, permissive]),
    ]);
    for (const p of proxies) if (p.status === 'fulfilled') children.push(p.value);
    for (const p of proxies) if (p.status === 'rejected') throw p.reason;
    const [plain, noRules, permissiveServe] = children.slice(1) as [Child, Child, Child];
    const targets = [
      { name: 'upstream direct', child: upstream },
      { name: 'plain Node proxy (no filter)', child: plain },
      { name: 'sergo serve, no rules', child: noRules },
      { name: 'sergo serve, permissive rules (all four strategies)', child: permissiveServe },
    ];
    for (const t of targets) await load(t.child.port, warmup); // JIT, connection pools
    progress(`http: ${targets.length} targets × ${rounds} rounds × ${seconds} s, ${CONNECTIONS} connections`);
    const samples = await interleave(
      targets.map((t) => ({ name: t.name, run: () => load(t.child.port, seconds, t.child.proc.pid) })),
      rounds,
      progress,
      'http',
    );
    const sergo = targets[3]!.child;
    const counters = await ruleCounters(sergo.adminPort!);

    const PLAIN = targets[1]!.name;
    const figures: Figure[] = [];
    const metrics = [
      { key: 'rps', unit: 'requests/s', label: 'requests/s' },
      { key: 'p50', unit: 'ms', label: 'p50 latency' },
      { key: 'p99', unit: 'ms', label: 'p99 latency' },
      { key: 'cpuUs', unit: 'CPU µs/request', label: 'CPU of the target process' },
    ] as const;
    for (const m of metrics) {
      if (m.key === 'cpuUs' && samples.get(PLAIN)!.some((x) => Number.isNaN(x.cpuUs))) continue; // no /proc
      const base = figure(`${PLAIN}: ${m.label}`, m.unit, samples.get(PLAIN)!.map((s) => s[m.key]));
      for (const t of targets) {
        figures.push(t.name === PLAIN ? { ...base, baseline: base.name, baselineMedian: base.median, ratio: 1 } : figure(`${t.name}: ${m.label}`, m.unit, samples.get(t.name)!.map((s) => s[m.key]), ref(base)));
      }
    }
    const failed = targets.map((t) => [t.name, samples.get(t.name)!.reduce((n, s) => n + s.failed, 0)] as const).filter(([, n]) => n > 0);
    return {
      id: 'http',
      title: '4. HTTP through loopback',
      method:
        `autocannon (in the bench process) → target → upstream (a node:http server answering 200 with 12 bytes), each server in its own ` +
        `Node process on this ${(await import('node:os')).cpus().length}-core machine; GET ${PATH}, ${CONNECTIONS} keep-alive connections, ` +
        `no pipelining, ${seconds} s per measurement (latency: every 2xx response's time, exact percentiles) after a ${warmup} s warm-up, ${rounds} interleaved rounds. sergo serve runs ` +
        `build/sergo.wasm in src/host (default 2 VMs); "permissive": all four strategies on the path, thresholds never reached. ` +
        `Ratio = ÷ the plain Node proxy.`,
      figures,
      notes: [
        `sergo serve's filter counted ${counters.passed.toLocaleString('en')} rule passes and ${counters.blocked} blocks over the permissive runs (4 rules per request).`,
        failed.length === 0
          ? 'Every response was a 2xx; no errors or timeouts.'
          : `Failed responses (errors + timeouts + non-2xx): ${failed.map(([n, k]) => `${n}: ${k}`).join(', ')}.`,
        'Three busy processes (load generator, proxy, upstream) share the cores: the absolute numbers are those of this machine; the ratios are the result.',
      ],
      params: { rounds, seconds, warmupSeconds: warmup, connections: CONNECTIONS, path: PATH },
    };
  } finally {
    await Promise.all(children.map(stopChild));
    rmSync(dir, { recursive: true, force: true });
  }
}
