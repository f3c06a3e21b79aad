// Section 6 — real Envoy (the pinned release, --concurrency 1) in front of a fast upstream, under
// closed-loop load from a separate process: (a) the router alone, (b) build/empty.wasm, (c) sergo
// with no rules, (d) each strategy alone and (e) all four, permissive, (f) Envoy's native
// local_ratelimit with a bucket that never empties, (g) and (h) the floor of an exact design: the
// host calls of RateLimit and of all four and nothing else (bench/wasm/exact.ts). Every bootstrap is
// the one `sergo translate --format envoy` emits ((a), (f), (g), (h) derived from it: the wasm filter
// removed or replaced, or given another module and its configuration).
// Requests/s, p50/p99, Envoy's CPU µs per request (/proc/<pid>/stat) and RSS; ratios to (a) and (b).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus as machineCpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_WASM, envoyBinary, ENVOY_INSTALL, launchEnvoy, readStats, type EnvoyProcess, type LaunchedEnvoy } from '../../src/envoy/index.ts';
import { autocannonGenerator, hasTaskset, nativeLocalRateLimit, NATIVE_STAT_PREFIX, routerOnly, setAffinity, startUpstreamEnvoy, withPluginConfiguration, wrkGenerator, type LoadGenerator } from '../lib/envoy.ts';
import { benchWasm } from '../lib/modules.ts';
import type { BenchOptions } from '../lib/options.ts';
import { progress } from '../lib/options.ts';
import { cpuBusy, cpuJiffies, processCpuSeconds, residentBytes } from '../lib/processes.ts';
import { KINDS, permissiveYaml, type Kind } from '../lib/rules.ts';
import { figure, interleave, summarize, type Figure, type Section, type Summary } from '../lib/stats.ts';

const PATH = '/bench/items';
const CONNECTIONS = 10;

/** Where the processes run during a measurement: taskset CPU lists, or undefined (the scheduler decides). */
interface Placement {
  envoy?: string;
  /** the load generator and the upstream */
  others?: string;
}
/** The default: the Envoy under test on CPU 0; the load generator and the upstream share CPU 1. */
const PINNED: Placement = { envoy: '0', others: '1' };

interface Case {
  name: string;
  rules: string;
  /** the module (a path, or how to get one: the bench's own modules are built when first needed) */
  module?: string | (() => string);
  rewrite?: (bootstrap: string) => string;
  /** measure the Envoy of that case again, with no pinning (to see what pinning changes, in the same rounds) */
  unpinnedOf?: string;
}

const ROUTER = '(a) router alone';
const EMPTY = '(b) build/empty.wasm';
const RATELIMIT = '(d) sergo, RateLimit alone';
const ALL_FOUR = '(e) sergo, all four on one resource';
const NATIVE = '(f) native local_ratelimit';
export const EXACT_RATE_LIMIT = "(g) exact floor: RateLimit's 4 host calls";
export const EXACT_ALL_FOUR = "(h) exact floor: all four's 8 host calls";
const exact = (configuration: string) => ({ rules: '', module: () => benchWasm('exact'), rewrite: withPluginConfiguration(configuration) });

const CASES: Case[] = [
  { name: ROUTER, rules: '', rewrite: routerOnly },
  { name: EMPTY, rules: '', module: EMPTY_WASM },
  { name: '(c) sergo, no rules', rules: '' },
  ...KINDS.map((k: Kind) => ({ name: `(d) sergo, ${k} alone`, rules: permissiveYaml([k], PATH) })),
  { name: ALL_FOUR, rules: permissiveYaml(KINDS, PATH) },
  { name: NATIVE, rules: '', rewrite: nativeLocalRateLimit },
  { name: EXACT_RATE_LIMIT, ...exact('ratelimit') },
  { name: EXACT_ALL_FOUR, ...exact('allfour') },
];
/** SERGO_BENCH_AB_WASM=another.wasm: (d) RateLimit and (e) all four again with that module, in the
 *  same rounds (an earlier build, to compare designs in Envoy side by side). */
const AB_WASM = process.env.SERGO_BENCH_AB_WASM;
if (AB_WASM) {
  const tag = ` — ${AB_WASM.split('/').pop()}`;
  CASES.push({ name: `${RATELIMIT}${tag}`, rules: permissiveYaml(['RateLimit'], PATH), module: AB_WASM },
    { name: `${ALL_FOUR}${tag}`, rules: permissiveYaml(KINDS, PATH), module: AB_WASM });
}
/** With pinning on, (a) and (e) are measured unpinned too, interleaved with the rest. */
const UNPINNED: Case[] = [ROUTER, ALL_FOUR].map((of) => ({ name: `${of.slice(0, 2)}′${of.slice(2)}, not pinned`, rules: '', unpinnedOf: of }));

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  /** Envoy's user + system CPU per request, µs */
  cpuUs: number;
  /** Envoy's VmRSS after the round, MiB */
  rssMiB: number;
  failed: number;
  requests: number;
  /** busy share of each CPU during the round (everything on the machine) */
  busy: number[];
}

const METRICS = [
  { key: 'cpuUs', unit: 'CPU µs/request', label: "Envoy's CPU" },
  { key: 'rps', unit: 'requests/s', label: 'requests/s' },
  { key: 'p50', unit: 'ms', label: 'p50 latency' },
  { key: 'p99', unit: 'ms', label: 'p99 latency' },
  { key: 'rssMiB', unit: 'MiB', label: 'RSS' },
] as const;

interface Rig {
  upstream: { url: string; envoy: EnvoyProcess };
  load: LoadGenerator;
  /** by case name (an unpinned variant uses the Envoy of the case it repeats) */
  envoys: Map<string, LaunchedEnvoy>;
  /** taskset CPU list of every CPU */
  allCpus: string;
}

async function measure(rig: Rig, c: Case, place: Placement | undefined, seconds: number): Promise<Sample> {
  const e = rig.envoys.get(c.unpinnedOf ?? c.name)!;
  const pid = e.envoy.pid!;
  if (place !== undefined) { // pinning is on: place (or free) the Envoy under test and the upstream for this case
    const p = c.unpinnedOf === undefined ? place : {};
    await setAffinity(pid, p.envoy ?? rig.allCpus);
    await setAffinity(rig.upstream.envoy.pid!, p.others ?? rig.allCpus);
    place = p;
  }
  const [cpu0, jiffies0] = [processCpuSeconds(pid), cpuJiffies()];
  const r = await rig.load.run(`${e.url}${PATH}`, seconds, CONNECTIONS, place?.others);
  const cpuUs = ((processCpuSeconds(pid) - cpu0) * 1e6) / r.requests;
  const busy = cpuBusy(jiffies0, cpuJiffies());
  return { rps: r.requests / r.seconds, p50: r.p50, p99: r.p99, cpuUs, rssMiB: residentBytes(pid) / 2 ** 20, failed: r.failed, requests: r.requests, busy };
}

/** The upstream, the load generator and one Envoy per case (two started at a time: translating is a Node process each). */
async function startRig(binary: string, dir: string, place: Placement | undefined, running: { stop(): Promise<void> }[]): Promise<Rig> {
  const upstream = await startUpstreamEnvoy(binary, dir, place?.others);
  running.push(upstream.envoy);
  const load = (await wrkGenerator(dir)) ?? autocannonGenerator();
  const envoys = new Map<string, LaunchedEnvoy>();
  for (let i = 0; i < CASES.length; i += 2) {
    const pair = await Promise.allSettled(CASES.slice(i, i + 2).map(async (c) => {
      const e = await launchEnvoy({
        rules: { text: c.rules }, upstream: upstream.url, concurrency: 1, module: typeof c.module === 'function' ? c.module() : c.module, rewrite: c.rewrite,
        binary, logLevel: 'warning', cpus: place?.envoy,
        translateArgs: ['--allow-empty'],   // the baselines run without rules
      });
      running.push(e);
      envoys.set(c.name, e);
    }));
    for (const p of pair) if (p.status === 'rejected') throw p.reason;
  }
  return { upstream, load, envoys, allCpus: `0-${machineCpus().length - 1}` };
}

export async function runEnvoy(opts: BenchOptions): Promise<Section> {
  const title = '6. Real Envoy';
  const binary = envoyBinary(false);
  if (binary.path === undefined) {
    progress(`envoy: skipped (${binary.error})`);
    return { id: 'envoy', title, method: '', figures: [], notes: [], skipped: `Envoy is not installed (${binary.error}); install it with ${ENVOY_INSTALL}` };
  }
  // Many short rounds: the noise of a shared machine comes in bursts, and a median over 11 shrugs them off.
  const rounds = opts.quick ? 2 : 11;
  const seconds = opts.quick ? 1 : 2;
  const warmup = opts.quick ? 1 : 2; // wrk takes whole seconds
  const tasksetHere = await hasTaskset();
  const place = opts.pin && tasksetHere && machineCpus().length >= 2 ? PINNED : undefined;
  const cases = place === undefined ? CASES : [...CASES, ...UNPINNED];
  const dir = mkdtempSync(join(tmpdir(), 'sergo-bench-envoy-'));
  const running: { stop(): Promise<void> }[] = [];
  try {
    progress(`envoy: starting the upstream and ${CASES.length} Envoys (${binary.path})`);
    const rig = await startRig(binary.path, dir, place, running);
    const sent = new Map<string, number>();
    const rssAtStart = new Map(CASES.map((c) => [c.name, residentBytes(rig.envoys.get(c.name)!.envoy.pid) / 2 ** 20]));
    for (const c of CASES) sent.set(c.name, (await rig.load.run(`${rig.envoys.get(c.name)!.url}${PATH}`, warmup, CONNECTIONS, place?.others)).requests); // V8's tiers, pools
    progress(`envoy: ${cases.length} measurements per round × ${rounds} rounds × ${seconds} s, ${CONNECTIONS} connections, ${rig.load.name}`);
    const samples = await interleave(cases.map((c) => ({ name: c.name, run: () => measure(rig, c, place, seconds) })), rounds, progress, 'envoy');
    for (const c of cases) {
      const of = c.unpinnedOf ?? c.name;
      sent.set(of, sent.get(of)! + samples.get(c.name)!.reduce((n, x) => n + x.requests, 0));
    }
    const counters = await filterCounters(rig.envoys);
    const pinning = place === undefined ? (opts.pin ? 'taskset is not available here: nothing pinned' : '--no-pin: nothing pinned') : undefined;
    return {
      id: 'envoy',
      title,
      method: method(binary.path, rig.load.name, pinning, { rounds, seconds, warmup }),
      figures: figures(samples, cases),
      columns: [{ key: 'vsEmpty', title: '÷ (b) empty.wasm' }],
      notes: notes(samples, counters, sent, rssAtStart, place !== undefined),
      params: { rounds, seconds, warmupSeconds: warmup, connections: CONNECTIONS, path: PATH, concurrency: 1, pinned: place ?? null, load: rig.load.name, envoy: binary.path },
    };
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(samples: Map<string, Sample[]>, cases: readonly Case[]): Figure[] {
  const out: Figure[] = [];
  const of = (name: string, key: (typeof METRICS)[number]['key']) => samples.get(name)!.map((s) => s[key]);
  for (const m of METRICS) {
    const router = summarize(of(ROUTER, m.key));
    const empty = summarize(of(EMPTY, m.key));
    for (const c of cases) {
      const s = summarize(of(c.name, m.key));
      const vsEmpty = { median: s.median / empty.median, min: s.median / empty.median, max: s.median / empty.median, runs: 1, unit: '×' };
      out.push(figure(`${c.name}: ${m.label}`, m.unit, s, { name: `${ROUTER}: ${m.label}`, median: router.median }, { extra: { vsEmpty } }));
    }
  }
  for (const m of METRICS) {
    const native = summarize(of(NATIVE, m.key));
    out.push(figure(`sergo RateLimit ÷ native local_ratelimit: ${m.label}`, m.unit, of(RATELIMIT, m.key), { name: `${NATIVE}: ${m.label}`, median: native.median }));
    out.push(figure(`exact floor RateLimit ÷ native local_ratelimit: ${m.label}`, m.unit, of(EXACT_RATE_LIMIT, m.key), { name: `${NATIVE}: ${m.label}`, median: native.median }));
  }
  return out;
}

interface Counters {
  /** per case: sergo's requests_passed summed over its rules (one per rule per request), and its blocks */
  passed: Map<string, number>;
  blocked: number;
  nativeOk: number;
  nativeLimited: number;
  /** Envoy's own wasm stats (to show that none counts host calls) */
  wasmStats: string[];
}

async function filterCounters(envoys: Map<string, LaunchedEnvoy>): Promise<Counters> {
  const c: Counters = { passed: new Map(), blocked: 0, nativeOk: 0, nativeLimited: 0, wasmStats: [] };
  for (const { name } of CASES) {
    for (const [stat, v] of await readStats(envoys.get(name)!.adminUrl)) {
      if (stat.endsWith('requests_passed')) c.passed.set(name, (c.passed.get(name) ?? 0) + v);
      else if (stat.endsWith('requests_blocked')) c.blocked += v;
      else if (stat === `${NATIVE_STAT_PREFIX}.http_local_rate_limit.ok`) c.nativeOk += v;
      else if (stat === `${NATIVE_STAT_PREFIX}.http_local_rate_limit.rate_limited`) c.nativeLimited += v;
      if (name === RATELIMIT && stat.startsWith('wasm.')) c.wasmStats.push(stat);
    }
  }
  return c;
}

/** `envoy --version` → `1.36.4/Clean/RELEASE/BoringSSL` (the part after the commit). */
function envoyVersion(binary: string): string {
  const out = execFileSync(binary, ['--version'], { encoding: 'utf8' });
  return /version: [0-9a-f]+\/(\S+)/.exec(out)?.[1] ?? out.trim();
}

function method(envoy: string, load: string, notPinned: string | undefined, p: { rounds: number; seconds: number; warmup: number }): string {
  return `Envoy ${envoyVersion(envoy)} with --concurrency 1, one process per case (all started first, then loaded in turn), every bootstrap ` +
    `the one \`sergo translate --format envoy\` emits for the case's rules ((a) and (f) derived from it: the wasm filter removed, or replaced by ` +
    `envoy.filters.http.local_ratelimit with a shared token bucket of 10⁹ tokens refilled every second, enabled and enforced for every request; (g) and (h): build/bench/exact.wasm with the plugin configuration ` +
    `"ratelimit" or "allfour", the host calls an exact decision shared by the workers makes and nothing else). ` +
    `Upstream: a second Envoy answering 200 from its route (direct_response, 12 bytes). Load: ${load}, GET ${PATH}, ${CONNECTIONS} keep-alive ` +
    `connections, closed loop, ${p.seconds} s per measurement after a ${p.warmup} s warm-up, ${p.rounds} interleaved rounds. ` +
    (notPinned === undefined
      ? 'taskset: the Envoy under test on CPU 0, the load generator and the upstream on CPU 1; (a′) and (e′) measure the Envoys of (a) and (e) ' +
        'again in the same rounds with nothing pinned (affinity changed on the running processes). '
      : `${notPinned}; the scheduler places every process. `) +
    `CPU = Envoy's utime + stime (all threads) per request, from /proc/<pid>/stat (10 ms steps); RSS = VmRSS after the round. ` +
    `Permissive rules: thresholds never reached (bench/lib/rules.ts permissiveYaml). Ratio = ÷ (a); the last column ÷ (b).`;
}

function notes(samples: Map<string, Sample[]>, c: Counters, sent: Map<string, number>, rssAtStart: Map<string, number>, pinned: boolean): string[] {
  const failed = [...samples].map(([n, xs]) => [n, xs.reduce((k, s) => k + s.failed, 0)] as const).filter(([, k]) => k > 0);
  const busy = CASES.flatMap((k) => samples.get(k.name)!).map((s) => s.busy); // the placed rounds only
  const cpuShare = busy[0]?.map((_, i) => summarize(busy.map((b) => b[i]!).filter((x) => !Number.isNaN(x))));
  const pct = (s: Summary) => `${(s.median * 100).toFixed(0)}% (${(s.min * 100).toFixed(0)}–${(s.max * 100).toFixed(0)}%)`;
  const perRequest = [...c.passed].map(([n, p]) => `${short(n)} ${(p / sent.get(n)!).toFixed(2)}`).join(', ');
  return [
    `sergo's rule passes per request sent (warm-up included; one per rule): ${perRequest}; ${c.blocked} blocks. ` +
      `The native filter: ${c.nativeOk.toLocaleString('en')} ok, ${c.nativeLimited} rate-limited.`,
    failed.length === 0 ? 'Every response was a 2xx; no errors or timeouts.' : `Failed responses (non-2xx, errors, timeouts): ${failed.map(([n, k]) => `${n}: ${k}`).join(', ')}.`,
    `RSS right after start, MiB: ${[...rssAtStart].map(([n, v]) => `${short(n)} ${v.toFixed(1)}`).join(', ')}.`,
    ...(cpuShare === undefined ? [] : [`Busy share of each CPU during the rounds (median, min–max; everything on the machine, other work included): ` +
      `${cpuShare.map((s, i) => `CPU ${i} ${pct(s)}`).join(', ')}${pinned ? ' — CPU 0 ran the Envoy under test, CPU 1 the load generator and the upstream.' : '.'}`]),
    `Host calls per request: Envoy counts none (its own wasm stats are ${[...new Set(c.wasmStats)].join(', ') || 'absent'}); ` +
      `section 1's "host calls/request" column counts them in src/host.`,
    ...pinningNote(samples),
    'The emitted bootstrap writes an access log line per request to stdout (here /dev/null) in every case, as users run it.',
  ];
}

/** Pinned vs not pinned, from the same rounds: spread over rounds ((max − min) ÷ median) and the ratio (e) ÷ (a). */
function pinningNote(samples: Map<string, Sample[]>): string[] {
  const [a2, e2] = UNPINNED.map((c) => c.name);
  if (!samples.has(a2!)) return [];
  const spread = (name: string, key: 'cpuUs' | 'rps') => {
    const s = summarize(samples.get(name)!.map((x) => x[key]));
    return `${(((s.max - s.min) / s.median) * 100).toFixed(0)}%`;
  };
  const ratio = (e: string, a: string) => (summarize(samples.get(e)!.map((x) => x.cpuUs)).median / summarize(samples.get(a)!.map((x) => x.cpuUs)).median).toFixed(2);
  const row = (pinned: string, free: string, key: 'cpuUs' | 'rps') => `${short(pinned)} ${spread(pinned, key)} pinned vs ${spread(free, key)} not`;
  return [`Pinning, same rounds — spread over rounds of CPU/request: ${row(ROUTER, a2!, 'cpuUs')}, ${row(ALL_FOUR, e2!, 'cpuUs')}; ` +
    `of requests/s: ${row(ROUTER, a2!, 'rps')}, ${row(ALL_FOUR, e2!, 'rps')}. CPU ratio (e) ÷ (a): ${ratio(ALL_FOUR, ROUTER)} pinned, ${ratio(e2!, a2!)} not pinned.`];
}

/** `(d) sergo, RateLimit alone` → `(d) RateLimit`, for the notes. */
function short(name: string): string {
  return name.replace('sergo, ', '').replace(/ alone$/, '').replace(' on one resource', '');
}
