// Section 2 — what a Node user would use instead, in the same process and run, making the same
// decisions per request: rate-limiter-flexible (RateLimiterMemory) for the rate limit, bottleneck for
// pacing and concurrency, opossum for the circuit breaker; sergo ÷ that stack, per strategy and for
// the combination. CPU time per request is compared (the stacks are asynchronous: bottleneck waits on
// timers, so its wall time is mostly idle; wall time is shown beside it).
import { createRequire } from 'node:module';
import Bottleneck from 'bottleneck';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { BenchOptions } from '../lib/options.ts';
import { progress } from '../lib/options.ts';
import { allFour, NEVER, single, type Rule } from '../lib/rules.ts';
import { emptyModule, exactModule, requestHeaders, sergoModule, startHost } from '../lib/sergo.ts';
import { EXACT_RATE_LIMIT } from './decision.ts';
import { filterConfig } from '../lib/rules.ts';
import { cpuNsSince, figure, interleave, ref, summarize, type Figure, type Section } from '../lib/stats.ts';

// opossum ships no type declarations: the part of its API used here.
interface BreakerOptions {
  timeout: number | false;
  errorThresholdPercentage: number;
  resetTimeout: number;
  rollingCountTimeout: number;
  rollingCountBuckets: number;
  volumeThreshold: number;
}
interface Breaker<A extends unknown[], R> {
  fire(...args: A): Promise<R>;
  shutdown(): void;
}
type BreakerCtor = new <A extends unknown[], R>(action: (...args: A) => Promise<R>, options: BreakerOptions) => Breaker<A, R>;
const CircuitBreaker = createRequire(import.meta.url)('opossum') as BreakerCtor;

const METHOD = 'GET';
const PATH = '/api/v0/items';
/** Requests in flight at once through a Node stack (a server with a few dozen open requests). */
export const IN_FLIGHT = 32;

// ---- the Node stacks ----------------------------------------------------------------------------

/** The upstream's answer: immediate, status 200. A 5xx would count as a failure for the breaker. */
const upstream = (): Promise<number> => Promise.resolve(200);
async function upstreamOrThrow(): Promise<number> {
  const status = await upstream();
  if (status >= 500) throw new Error(`upstream ${status}`);
  return status;
}

interface Running {
  /** one request: the decisions, then the upstream call inside whatever the stack wraps it in */
  handle(method: string, path: string): Promise<unknown>;
  close(): Promise<void>;
}
interface Stack {
  name: string;
  /** bottleneck yields to the event loop through timers: far fewer requests fit in a run */
  slow?: boolean;
  start(): Running;
}

/** One per route, created on first use (what a Node server does with a per-route limiter). */
function perRoute<T>(make: () => T): { get(key: string): T; all(): T[] } {
  const m = new Map<string, T>();
  return {
    get(key) {
      let v = m.get(key);
      if (v === undefined) m.set(key, (v = make()));
      return v;
    },
    all: () => [...m.values()],
  };
}

const rateLimiter = () => new RateLimiterMemory({ points: NEVER.RateLimit.threshold, duration: NEVER.RateLimit.windowMs / 1000 });
// Throttling: minTime = the pacing interval; sergo refuses beyond `maxQueuedPerVm` (1,000) waiting,
// bottleneck beyond highWater queued (OVERFLOW drops the new job). It has no queue-time limit.
const pacingOptions = { minTime: NEVER.Throttling.intervalMs, highWater: 1000, strategy: Bottleneck.strategy.OVERFLOW };
// ConcurrencyLimit: maxConcurrent; highWater 0 + OVERFLOW refuses a job that cannot start at once, as sergo does.
const concurrencyOptions = { maxConcurrent: NEVER.ConcurrencyLimit.maxConcurrency, highWater: 0, strategy: Bottleneck.strategy.OVERFLOW };
const breakerOptions: BreakerOptions = {
  errorThresholdPercentage: NEVER.CircuitBreaker.triggerRatio * 100,
  volumeThreshold: NEVER.CircuitBreaker.minRequestAmount,
  rollingCountTimeout: NEVER.CircuitBreaker.statDurationMs,
  rollingCountBuckets: 10,
  resetTimeout: NEVER.CircuitBreaker.recoveryTimeoutMs,
  timeout: false, // sergo has no per-request timer (Envoy's route timeout does that); opossum's default 10 s would add a setTimeout per call
};

const stopAll = async (limiters: Bottleneck[]) => {
  for (const l of limiters) await l.stop({ dropWaitingJobs: false });
};

export const STACKS: Record<'floor' | 'RateLimit' | 'Throttling' | 'ConcurrencyLimit' | 'CircuitBreaker' | 'all', Stack> = {
  floor: {
    name: 'Node: async handler, no limiter',
    start() {
      const routes = perRoute(() => ({}));
      return {
        handle: async (method, path) => {
          routes.get(`${method}:${path}`);
          return upstream();
        },
        close: async () => {},
      };
    },
  },
  RateLimit: {
    name: 'rate-limiter-flexible RateLimiterMemory',
    start() {
      const limiter = rateLimiter();
      return {
        handle: async (method, path) => {
          await limiter.consume(`${method}:${path}`); // rejects when over the limit (→ 429)
          return upstream();
        },
        close: async () => {},
      };
    },
  },
  Throttling: {
    name: 'bottleneck (minTime, highWater)',
    slow: true,
    start() {
      const routes = perRoute(() => new Bottleneck(pacingOptions));
      return { handle: (method, path) => routes.get(`${method}:${path}`).schedule(upstream), close: () => stopAll(routes.all()) };
    },
  },
  ConcurrencyLimit: {
    name: 'bottleneck (maxConcurrent)',
    slow: true,
    start() {
      const routes = perRoute(() => new Bottleneck(concurrencyOptions));
      return { handle: (method, path) => routes.get(`${method}:${path}`).schedule(upstream), close: () => stopAll(routes.all()) };
    },
  },
  CircuitBreaker: {
    name: 'opossum CircuitBreaker',
    start() {
      const routes = perRoute(() => new CircuitBreaker(upstreamOrThrow, breakerOptions));
      return {
        handle: (method, path) => routes.get(`${method}:${path}`).fire(),
        close: async () => routes.all().forEach((b) => b.shutdown()),
      };
    },
  },
  all: {
    name: 'rate-limiter-flexible + bottleneck (minTime, maxConcurrent) + opossum',
    slow: true,
    start() {
      const limiter = rateLimiter();
      // One bottleneck per route does both pacing and concurrency (its idiomatic use).
      const shapers = perRoute(() => new Bottleneck({ ...pacingOptions, maxConcurrent: NEVER.ConcurrencyLimit.maxConcurrency }));
      const breakers = perRoute(() => new CircuitBreaker(upstreamOrThrow, breakerOptions));
      return {
        handle: async (method, path) => {
          const key = `${method}:${path}`;
          await limiter.consume(key);
          return shapers.get(key).schedule(() => breakers.get(key).fire());
        },
        close: async () => {
          await stopAll(shapers.all());
          breakers.all().forEach((b) => b.shutdown());
        },
      };
    },
  },
};

/** `n` requests through a stack with `inFlight` of them in flight at any time; ns per request. */
export async function driveStack(stack: Stack, n: number, warmup: number, inFlight = IN_FLIGHT): Promise<{ wallNs: number; cpuNs: number }> {
  const s = stack.start();
  const run = async (count: number) => {
    let started = 0;
    const client = async () => {
      while (started < count) {
        started++;
        await s.handle(METHOD, PATH);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, client));
  };
  try {
    await run(warmup);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await run(n);
    return { wallNs: Number(process.hrtime.bigint() - t0) / n, cpuNs: cpuNsSince(cpu0) / n };
  } finally {
    await s.close();
  }
}

/**
 * The module in src/host behind the same async handler: request headers (the decisions), then, if
 * admitted, the upstream call awaited, then response headers and the end of the stream (log, done,
 * delete) — the lifecycle of section 1 with requests in flight at once, as in a proxy.
 */
function sergoStack(name: string, module: () => WebAssembly.Module, rules: Rule[] | string): Stack {
  return {
    name,
    start() {
      const { host } = startHost(module(), typeof rules === 'string' ? rules : filterConfig(rules), 1, { checkHeaders: false });
      const RESPONSE: [string, string][] = [[':status', '200'], ['content-type', 'application/json'], ['content-length', '2']];
      return {
        handle: async (method, path) => {
          const s = host.stream();
          const r = s.requestHeaders(requestHeaders(path, method));
          if (r.action !== 'continue') throw new Error(`${name}: request not admitted (${r.action})`);
          const status = await upstream();
          s.responseHeaders(status === 200 ? RESPONSE : [[':status', String(status)]]);
          s.finish();
          return status;
        },
        close: async () => {
          if (host.vms[0]!.failed) throw new Error(`${name}: the VM failed: ${host.vms[0]!.failure}`);
          host.close();
        },
      };
    },
  };
}

// ---- the section ---------------------------------------------------------------------------------

interface Pair {
  sergo: Stack;
  stack: Stack;
}

const PAIRS: Pair[] = [
  { sergo: sergoStack('empty module (floor)', emptyModule, []), stack: STACKS.floor },
  { sergo: sergoStack('sergo RateLimit', sergoModule, single('RateLimit')), stack: STACKS.RateLimit },
  { sergo: sergoStack('sergo Throttling', sergoModule, single('Throttling')), stack: STACKS.Throttling },
  { sergo: sergoStack('sergo ConcurrencyLimit', sergoModule, single('ConcurrencyLimit')), stack: STACKS.ConcurrencyLimit },
  { sergo: sergoStack('sergo CircuitBreaker', sergoModule, single('CircuitBreaker')), stack: STACKS.CircuitBreaker },
  { sergo: sergoStack('sergo, all four on 1 resource', sergoModule, allFour()), stack: STACKS.all },
];
/** The floor of an exact design beside them: RateLimit's four host calls and nothing else (bench/wasm/exact.ts). */
const EXACT = sergoStack(EXACT_RATE_LIMIT, exactModule, 'ratelimit');

export async function runAlternatives(opts: BenchOptions): Promise<Section> {
  const rounds = opts.quick ? 3 : 5;
  const fast = opts.quick ? 20_000 : 100_000;
  const slow = opts.quick ? 100 : 500;
  progress(`alternatives: ${PAIRS.length} pairs × ${rounds} rounds (${fast.toLocaleString('en')} requests; bottleneck stacks ${slow})`);
  const cases = PAIRS.flatMap((p) => [
    { name: p.sergo.name, run: () => driveStack(p.sergo, fast, 5000) },
    { name: p.stack.name, run: () => driveStack(p.stack, p.stack.slow ? slow : fast, p.stack.slow ? 30 : 5000) },
  ]);
  cases.splice(4, 0, { name: EXACT.name, run: () => driveStack(EXACT, fast, 5000) }); // after the RateLimit pair
  const samples = await interleave(cases, rounds, progress, 'alternatives');
  const unit = 'CPU ns/request';
  const figures: Figure[] = [];
  for (const p of PAIRS) {
    const st = samples.get(p.stack.name)!;
    const se = samples.get(p.sergo.name)!;
    const wall = (xs: { wallNs: number }[]) => ({ wall: { ...summarize(xs.map((x) => x.wallNs)), unit: 'ns/request' } });
    const stackFig = figure(p.stack.name, unit, st.map((x) => x.cpuNs), null, { extra: wall(st) });
    figures.push(stackFig, figure(p.sergo.name, unit, se.map((x) => x.cpuNs), ref(stackFig), { extra: wall(se) }));
    if (p.stack === STACKS.RateLimit) {
      const ex = samples.get(EXACT.name)!;
      figures.push(figure(EXACT.name, unit, ex.map((x) => x.cpuNs), ref(stackFig), { extra: wall(ex) }));
    }
  }
  return {
    id: 'alternatives',
    title: '2. sergo vs what a Node user would use instead',
    method:
      `The same decisions per request, same thresholds (bench/lib/rules.ts NEVER: checked, never blocking), same process and run, ` +
      `${rounds} interleaved rounds, one driver for both sides: an async handler per request, ${IN_FLIGHT} requests in flight, ` +
      `an upstream that answers at once (an awaited promise), ${fast.toLocaleString('en')} requests per run (${slow} for stacks with bottleneck). ` +
      `sergo: request headers through src/host (the decisions), await the upstream, response headers, end of stream (log, done, delete). ` +
      `Node stacks: keyed by route, awaiting the library as documented, the upstream call inside what it wraps. Figure: CPU time (user + system) per request; ` +
      `ratio = sergo ÷ the Node stack above it (< 1: sergo is cheaper). "wall" = elapsed time per request at that concurrency.`,
    figures,
    columns: [{ key: 'wall', title: 'wall ns/request' }],
    notes: [
      'None of these Node stacks shares state between processes: with N cluster workers or replicas each enforces its own limits ' +
        '(N× the threshold). sergo keeps every counter in proxy-wasm shared data, common to all Envoy workers (CAS updates), and ' +
        'limitMode Global shares them across proxies (section 5).',
      'They protect only Node code that calls them; sergo protects any upstream behind Envoy/Istio, from OpenSergo rules reloaded without a redeploy, ' +
        'with per-rule stats and configured fallback responses.',
      '"exact floor": the empty module plus the four host calls an exact RateLimit shared by every worker makes (bench/wasm/exact.ts) and ' +
        'nothing else; its CPU above the empty module is the least an exact design adds in this host (section 0 compares it with rate-limiter-flexible\'s).',
      'RateLimiterMemory counts in fixed windows (up to 2× the threshold across a window edge); sergo in a 10-bucket sliding window.',
      'bottleneck refuses by queue length (highWater), not by waiting time (sergo: queueTimeout); its in-memory datastore yields to the ' +
        'event loop with setTimeout(0) several times per job and runs submissions one at a time, so one limiter admits at most about one job per timer turn (~1 ms).',
      'opossum runs with timeout: false (its default adds a 10 s timer per call; sergo leaves timeouts to Envoy\'s route). Errors are rejected promises ' +
        '(here: a 5xx answer); sergo counts configured status codes or slow responses.',
    ],
    params: { rounds, requestsPerRun: fast, requestsPerRunBottleneck: slow, inFlight: IN_FLIGHT },
  };
}
