// Section 5 — limitMode Global: the filter asks the rate-limit service (src/rls, HTTP/JSON) which
// counts in Redis; with batch N a call reserves N hits and later requests of any worker spend them
// without a call. Per request: elapsed time with requests in flight, the filter's decision latency,
// and calls to the service — through src/host (real clock and timers) + src/rls + a redis-server.
import http from 'node:http';
import { ProxyWasmHost, SystemClock, type HttpCallHandler } from '../../src/host/index.ts';
import type { BenchOptions } from '../lib/options.ts';
import { progress } from '../lib/options.ts';
import { processCpuSeconds, spawnChild, stopChild } from '../lib/processes.ts';
import { benchRedis } from '../lib/redis.ts';
import { NEVER, type Rule } from '../lib/rules.ts';
import { requestHeaders, RESPONSE_200, sergoModule } from '../lib/sergo.ts';
import { cpuNsSince, figure, interleave, ref, summarize, type Figure, type Section } from '../lib/stats.ts';

const PATH = '/api/v0/items';
const IN_FLIGHT = 16;
const VMS = 2;
/** The filter's deadline for one call (Envoy's default is 20 ms; generous here so that the cost, not the timeout, is measured). */
const CALL_TIMEOUT_MS = 250;

/** proxy_http_call → the service over HTTP/1.1 keep-alive (as sergo serve's forwarder does), counting calls. */
function forwarder(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const counter = { calls: 0 };
  const handler: HttpCallHandler = (_vm, call) =>
    new Promise((resolve) => {
      counter.calls++;
      let method = 'POST';
      let path = '/json';
      const headers: [string, string][] = [];
      for (const [k, v] of call.headers) {
        if (k === ':method') method = v;
        else if (k === ':path') path = v;
        else if (!k.startsWith(':')) headers.push([k, v]);
      }
      const req = http.request({ host: '127.0.0.1', port, method, path, headers: Object.fromEntries(headers), agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: [[':status', String(res.statusCode ?? 500)]], body: new Uint8Array(Buffer.concat(chunks)) }));
        res.on('error', () => resolve(null));
      });
      req.on('error', () => resolve(null));
      req.end(Buffer.from(call.body));
    });
  return { handler, counter, close: () => agent.destroy() };
}

interface Sample {
  wallNs: number;
  cpuNs: number;
  /** median / 99th percentile time from request headers to the decision, ns */
  p50Ns: number;
  p99Ns: number;
  callsPerRequest: number;
  blocked: number;
  /** CPU of the rate-limit service's process per request, ns (NaN without /proc) */
  rlsCpuNs: number;
}

let generation = 0;

async function measure(rule: (id: string) => Rule, global: boolean, rlsPort: number, rlsPid: number | undefined, n: number): Promise<Sample> {
  const fwd = forwarder(rlsPort);
  const config = {
    version: 1,
    ...(global ? { rateLimitService: { cluster: 'sergo_rls', timeoutMs: CALL_TIMEOUT_MS } } : {}),
    rules: [rule(`bench/global/${process.pid}/${++generation}`)],
  };
  const host = new ProxyWasmHost({
    module: sergoModule(), vms: VMS, clock: new SystemClock(), realTimers: true, checkHeaders: false,
    httpCallHandler: fwd.handler, configuration: JSON.stringify(config),
  });
  if (!host.start()) throw new Error(`global: configuration refused: ${host.logs.map((l) => l.message).join('; ')}`);
  const headers = requestHeaders(PATH);
  let blocked = 0;
  const one = (latencies: Float64Array, at: number) =>
    new Promise<void>((resolve) => {
      const s = host.stream();
      const t0 = performance.now();
      let done = false;
      const settle = (admitted: boolean) => {
        if (done) return;
        done = true;
        latencies[at] = (performance.now() - t0) * 1e6;
        if (admitted) s.responseHeaders(RESPONSE_200);
        else blocked++;
        s.finish();
        resolve();
      };
      s.onResume = () => queueMicrotask(() => settle(s.localResponse === undefined));
      s.onLocalResponse = () => queueMicrotask(() => settle(false));
      const r = s.requestHeaders(headers);
      if (r.action === 'continue') settle(true);
      else if (r.action === 'local-response') settle(false);
      else if (r.action !== 'pause') throw new Error(`global: unexpected ${r.action}`);
    });
  const run = async (count: number, latencies: Float64Array) => {
    let started = 0;
    const client = async () => {
      while (started < count) await one(latencies, started++);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, client));
  };
  try {
    await run(Math.min(500, n >> 2), new Float64Array(n)); // warm-up: JIT, connections to the service
    const calls0 = fwd.counter.calls;
    blocked = 0;
    const latencies = new Float64Array(n);
    const rlsCpu0 = processCpuSeconds(rlsPid);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await run(n, latencies);
    const wallNs = Number(process.hrtime.bigint() - t0) / n;
    const cpuNs = cpuNsSince(cpu0) / n;
    const rlsCpuNs = ((processCpuSeconds(rlsPid) - rlsCpu0) * 1e9) / n;
    latencies.sort();
    return {
      wallNs, cpuNs,
      p50Ns: latencies[Math.floor(n * 0.5)]!,
      p99Ns: latencies[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]!,
      callsPerRequest: (fwd.counter.calls - calls0) / n,
      blocked,
      rlsCpuNs,
    };
  } finally {
    await host.whenIdle();
    host.close();
    fwd.close();
  }
}

const globalRule = (batch: number) => (id: string): Rule => ({
  id, resource: PATH, strategy: { kind: 'RateLimit', mode: 'Global', threshold: 1_000_000_000, windowMs: 60_000, ...(batch > 1 ? { batch } : {}) },
});
const localRule = (id: string): Rule => ({ id, resource: PATH, strategy: NEVER.RateLimit });

export async function runGlobal(opts: BenchOptions): Promise<Section> {
  const base: Omit<Section, 'figures' | 'method'> = {
    id: 'global',
    title: '5. limitMode Global (rate-limit service + Redis)',
    notes: [],
  };
  const redis = await benchRedis();
  if (typeof redis === 'string') {
    progress(`global: SKIPPED: ${redis}`);
    process.stderr.write(`NOTE: the Global rows are skipped: ${redis}.\n`);
    return { ...base, method: '', figures: [], skipped: redis };
  }
  const rounds = opts.quick ? 2 : 5;
  const n = opts.quick ? 2000 : 10_000;
  let rls;
  try {
    rls = await spawnChild('rate-limit service', ['rls', redis.url]);
  } catch (err) {
    await redis.dispose();
    throw err;
  }
  try {
    const LOCAL = 'Local RateLimit (same driver, no service)';
    const setups: Record<string, [(id: string) => Rule, boolean]> = {
      [LOCAL]: [localRule, false],
      'Global RateLimit, batch 1': [globalRule(1), true],
      'Global RateLimit, batch 10': [globalRule(10), true],
      'Global RateLimit, batch 100': [globalRule(100), true],
    };
    const measureWith = (name: string, count: number) => measure(setups[name]![0], setups[name]![1], rls.port, rls.proc.pid, count);
    const cases = Object.keys(setups).map((name) => ({ name, run: () => measureWith(name, n) }));
    progress(`global: Redis from ${redis.source}; ${cases.length} cases × ${rounds} rounds × ${n.toLocaleString('en')} requests`);
    // One unrecorded pass of every case first: new hosts run cold code at first (tier-up), which
    // would otherwise fall on the first round's first case.
    for (const c of cases) await measureWith(c.name, Math.min(n, 1000));
    const samples = await interleave(cases, rounds, progress, 'global');
    const pick = (name: string, k: keyof Sample) => samples.get(name)!.map((s) => s[k]);
    const extra = (name: string) => ({
      cpu: { ...summarize(pick(name, 'cpuNs')), unit: 'ns/request' },
      ...(Number.isNaN(pick(name, 'rlsCpuNs')[0]) ? {} : { rlsCpu: { ...summarize(pick(name, 'rlsCpuNs')), unit: 'ns/request' } }),
      p50: { ...summarize(pick(name, 'p50Ns').map((x) => x / 1000)), unit: 'µs' },
      p99: { ...summarize(pick(name, 'p99Ns').map((x) => x / 1000)), unit: 'µs' },
    });
    const local = figure(LOCAL, 'ns/request', pick(LOCAL, 'wallNs'), null, { extra: extra(LOCAL) });
    const figures: Figure[] = [local];
    for (const c of cases.slice(1)) figures.push(figure(c.name, 'ns/request', pick(c.name, 'wallNs'), ref(local), { extra: extra(c.name) }));
    const calls1 = figure('service calls per request, batch 1', 'calls/request', pick(cases[1]!.name, 'callsPerRequest'));
    figures.push(calls1);
    for (const b of [10, 100]) {
      figures.push(figure(`service calls per request, batch ${b}`, 'calls/request', pick(`Global RateLimit, batch ${b}`, 'callsPerRequest'), ref(calls1)));
    }
    const blocked = cases.reduce((k, c) => k + samples.get(c.name)!.reduce((m, s) => m + s.blocked, 0), 0);
    return {
      ...base,
      method:
        `build/sergo.wasm in src/host (${VMS} VMs, real clock and timers) → proxy_http_call → HTTP/1.1 keep-alive → src/rls (its own process, as sergo rls) → ` +
        `Redis (${redis.source}). One Global RateLimit rule (threshold never reached, 60 s window, call timeout ${CALL_TIMEOUT_MS} ms); ` +
        `${IN_FLIGHT} requests in flight, ${n.toLocaleString('en')} per run after a warm-up, ${rounds} interleaved rounds. ` +
        `Figure: elapsed time per request at that concurrency (the service round trip overlaps other requests); ` +
        `ratio = ÷ the same driver with a Local RateLimit. CPU per request: of the proxy (this process: filter, host, HTTP client) and of the service's process (/proc; 10 ms resolution). ` +
        `p50/p99: from request headers to the filter's decision.`,
      figures,
      columns: [
        { key: 'cpu', title: 'CPU ns/request, proxy' },
        { key: 'rlsCpu', title: 'CPU ns/request, service' },
        { key: 'p50', title: 'p50 decision µs' },
        { key: 'p99', title: 'p99 decision µs' },
      ],
      notes: [
        'With batch N a call reserves N hits and the N − 1 unused ones are deposited in shared data for any worker; when they run out, ' +
          `every request in flight (up to ${IN_FLIGHT}) calls at once, and each of those calls deposits N − 1 more, so the calls per request stay at 1/N ` +
          'while the threshold is far; the price is the burst of calls and its wait (p99 decision).',
        blocked === 0 ? 'No request was blocked (no call failed or timed out).' : `${blocked} requests were blocked: calls failed or timed out (fail-closed).`,
      ],
      params: { rounds, requestsPerRun: n, inFlight: IN_FLIGHT, vms: VMS, callTimeoutMs: CALL_TIMEOUT_MS, redis: redis.source },
    };
  } finally {
    await stopChild(rls);
    await redis.dispose();
  }
}
