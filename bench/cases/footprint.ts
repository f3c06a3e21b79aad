// Section 3 — footprint: the release module's size (raw and gzip), linear memory after warm-up and
// after 10^6 requests of a mixed workload (blocking, pausing, breaker trips and probes included),
// on_configure time for 10 / 1,000 / 10,000 rules and `sergo translate` (translateFiles) time on
// generated OpenSergo YAML for the same rule counts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { HttpStream } from '../../src/host/index.ts';
import { translateFiles } from '../../src/translate.ts';
import type { BenchOptions } from '../lib/options.ts';
import { progress } from '../lib/options.ts';
import { allFour, filterConfig, manyResources, openSergoYaml, type Rule } from '../lib/rules.ts';
import { EMPTY_WASM, requestHeaders, SERGO_WASM, sergoModule, startHost, type LifecycleHost } from '../lib/sergo.ts';
import { figure, interleave, ref, type Figure, type Section } from '../lib/stats.ts';

const RULE_COUNTS = [10, 1000, 10_000];

// ---- module size ---------------------------------------------------------------------------------

function moduleSize(): Figure[] {
  const size = (file: string) => {
    const bytes = readFileSync(file);
    return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const sergo = size(SERGO_WASM);
  const empty = size(EMPTY_WASM);
  const emptyRaw = figure('build/empty.wasm, raw', 'bytes', [empty.raw]);
  const emptyGz = figure('build/empty.wasm, gzip -9', 'bytes', [empty.gzip]);
  return [
    emptyRaw,
    figure('build/sergo.wasm (release), raw', 'bytes', [sergo.raw], ref(emptyRaw)),
    emptyGz,
    figure('build/sergo.wasm (release), gzip -9', 'bytes', [sergo.gzip], ref(emptyGz)),
  ];
}

// ---- linear memory under a mixed workload --------------------------------------------------------

/** Rules that do block: a low rate limit, pacing with a short queue, 2 in flight, a breaker that trips. */
export function mixedRules(): Rule[] {
  return [
    { id: 'mix/rl', resource: 'GET:/rl', strategy: { kind: 'RateLimit', threshold: 100, windowMs: 1000 }, fallback: { status: 429, body: 'slow down', headers: [['retry-after', '1']] } },
    { id: 'mix/th', resource: '/th', strategy: { kind: 'Throttling', intervalMs: 1, queueTimeoutMs: 5 } },
    { id: 'mix/cc', resource: '/cc', strategy: { kind: 'ConcurrencyLimit', maxConcurrency: 2 } },
    {
      id: 'mix/cb', resource: '/cb/{id}',
      strategy: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 1000, recoveryTimeoutMs: 50, minRequestAmount: 10 },
    },
    ...allFour('/all/**'),
    ...manyResources(100, false),
  ];
}

const MIX_PATHS = ['/rl', '/th', '/cc', '/cb/7', '/all/x/y', '/api/v{i}/items', '/none'];

/**
 * A request mix over mixedRules(): the clock advances 1 ms every 64 requests through host.advance
 * (ticks fire, paused requests resume), up to 3 /cc requests stay open (the third is refused), and
 * two of three /cb answers are 500 (the breaker trips, waits, probes).
 */
class MixedWorkload {
  private i = 0;
  private readonly paused: HttpStream[] = [];
  private readonly open: HttpStream[] = [];
  outcomes = { continue: 0, blocked: 0, paused: 0 };

  constructor(private readonly h: LifecycleHost) {}

  run(n: number): void {
    const { host } = this.h;
    for (let k = 0; k < n; k++, this.i++) {
      const i = this.i;
      const path = MIX_PATHS[i % MIX_PATHS.length]!.replace('{i}', String(i % 100));
      const s = host.stream();
      const r = s.requestHeaders(requestHeaders(path));
      if (r.action === 'continue') {
        this.outcomes.continue++;
        if (path === '/cc') {
          this.open.push(s);
          if (this.open.length > 3) this.respond(this.open.shift()!, 200);
        } else this.respond(s, path.startsWith('/cb/') && i % 3 !== 0 ? 500 : 200);
      } else if (r.action === 'pause') {
        this.outcomes.paused++;
        this.paused.push(s);
      } else if (r.action === 'local-response') {
        this.outcomes.blocked++;
        s.finish();
      } else throw new Error(`unexpected ${r.action} for ${path}`);
      if ((i & 63) === 63) this.tick();
    }
  }

  private respond(s: HttpStream, status: number): void {
    s.responseHeaders([[':status', String(status)], ['content-length', '2']]);
    s.finish();
  }

  private tick(): void {
    this.h.host.advance(1);
    for (let j = this.paused.length - 1; j >= 0; j--) {
      const s = this.paused[j]!;
      if (s.paused) continue;
      this.paused.splice(j, 1);
      if (s.localResponse) s.finish();
      else this.respond(s, 200);
    }
  }
}

function memory(requests: number): Figure[] {
  const h = startHost(sergoModule(), filterConfig(mixedRules()), 1, { checkHeaders: false });
  const vm = h.host.vms[0]!;
  const w = new MixedWorkload(h);
  w.run(10_000);
  const warmPages = vm.memoryPages();
  const warmKeys = h.host.sharedData.size;
  const heap0 = process.memoryUsage().heapUsed;
  progress(`footprint: memory: ${warmPages} pages after warm-up; running ${requests.toLocaleString('en')} requests`);
  w.run(requests);
  if (vm.failed) throw new Error(`the VM failed: ${vm.failure}`);
  const pages = vm.memoryPages();
  const keys = h.host.sharedData.size;
  progress(`footprint: memory: ${pages} pages after ${requests.toLocaleString('en')} more requests`);
  h.host.close();
  const n = requests.toLocaleString('en');
  const warm = figure('linear memory after warm-up (10,000 requests)', 'pages', [warmPages]);
  const warmK = figure('shared-data keys after warm-up', 'keys', [warmKeys]);
  const o = w.outcomes;
  return [
    warm,
    figure(`linear memory after ${n} more requests`, 'pages', [pages], ref(warm), {
      note: `${pages - warmPages} pages (${((pages - warmPages) * 64).toLocaleString('en')} KiB) of growth; outcomes: ${o.continue} admitted, ${o.blocked} blocked, ${o.paused} paused`,
    }),
    warmK,
    figure(`shared-data keys after ${n} more requests`, 'keys', [keys], ref(warmK), { note: `JS heap of the bench process ${((process.memoryUsage().heapUsed - heap0) / 2 ** 20).toFixed(1)} MiB different` }),
  ];
}

// ---- on_configure and translate times ------------------------------------------------------------

async function configureAndTranslate(rounds: number): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sergo-bench-'));
  try {
    const files = new Map<number, string>();
    for (const n of RULE_COUNTS) {
      const file = join(dir, `rules-${n}.yaml`);
      writeFileSync(file, openSergoYaml(n));
      files.set(n, file);
    }
    await translateFiles([files.get(RULE_COUNTS[0]!)!]); // warm-up: load and JIT the translator
    const translateName = (n: number) => `sergo translate (translateFiles), ${n.toLocaleString('en')} rules`;
    const configureName = (n: number) => `on_configure, ${n.toLocaleString('en')} rules`;
    // Per round and rule count: translate the YAML (timed), then load its output into a VM (timed).
    const configs = new Map<number, string>();
    const cases = RULE_COUNTS.flatMap((n) => [
      {
        name: translateName(n),
        run: async () => {
          const t0 = process.hrtime.bigint();
          const t = await translateFiles([files.get(n)!]);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          if (t.config === undefined || t.config.rules.length !== n) {
            throw new Error(`${translateName(n)}: ${t.errors.map((e) => e.message).join('; ') || `${t.config?.rules.length} rules`}`);
          }
          configs.set(n, JSON.stringify(t.config));
          return ms;
        },
      },
      {
        name: configureName(n),
        run: () => {
          const h = startHost(sergoModule(), filterConfig([]), 1);
          const t0 = process.hrtime.bigint();
          const ok = h.host.configure(configs.get(n)!);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          h.host.close();
          if (!ok) throw new Error(`${configureName(n)}: configuration refused`);
          return ms;
        },
      },
    ]);
    const samples = await interleave(cases, rounds, progress, 'footprint: translate/configure');
    const out: Figure[] = [];
    for (const name of [configureName, translateName]) {
      const base = figure(name(RULE_COUNTS[0]!), 'ms', samples.get(name(RULE_COUNTS[0]!))!);
      out.push(base, ...RULE_COUNTS.slice(1).map((n) => figure(name(n), 'ms', samples.get(name(n))!, ref(base))));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runFootprint(opts: BenchOptions): Promise<Section> {
  // Quick mode runs a quarter of the requests (the row says how many).
  const requests = opts.quick ? 250_000 : 1_000_000;
  const rounds = opts.quick ? 2 : 5;
  progress('footprint: module size, memory, on_configure, translate');
  const figures = [...moduleSize(), ...memory(requests), ...(await configureAndTranslate(rounds))];
  return {
    id: 'footprint',
    title: '3. Footprint',
    method:
      `Module sizes of the release build and of the empty module (same bindings and flags). Linear memory (64 KiB pages) of one VM ` +
      `running a mixed workload over ${mixedRules().length} rules (blocked, paused and resumed requests, open concurrency slots, a breaker that trips ` +
      `and probes, 100 resources; bench/cases/footprint.ts), after a 10,000-request warm-up and after ${requests.toLocaleString('en')} more. ` +
      `on_configure: one VM, the configuration translated from generated OpenSergo YAML (${RULE_COUNTS.map((n) => n.toLocaleString('en')).join(' / ')} rules, kinds in turn, half of them templates), ` +
      `applied to a started VM (host.configure), ${rounds} runs; translate: translateFiles on that YAML file (read, parse, validate, emit), ${rounds} runs.`,
    figures,
    notes: [
      'Envoy calls on_configure once per worker VM on every configuration push, so a push costs VMs × the on_configure time of CPU (the workers do it in parallel).',
      'For scale, as others report them: a minimal AssemblyScript module is about 18.4 KB raw / 8.2 KB gzip (LukeHagar/wasm-overhead-research, generic wasm); Higress\'s native-Go proxy-wasm plugins 5.7–6.2 MB (higress-group/wasm-go#51).',
    ],
    params: { memoryRequests: requests, rounds, ruleCounts: RULE_COUNTS },
  };
}
