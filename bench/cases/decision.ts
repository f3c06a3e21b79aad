// Section 1 — decision cost: ns per request lifecycle through src/host on V8, for the empty module
// (the floor: same bindings and build flags, a filter that does nothing), each strategy alone, all
// four on one resource (1 and 4 VMs) and 1 / 100 / 1,000 / 10,000 resources (exact keys and
// templates). Every figure is a ratio to the floor.
import { trivialModule } from '../host-overhead.ts';
import type { BenchOptions } from '../lib/options.ts';
import { progress } from '../lib/options.ts';
import { allFour, filterConfig, manyResources, middlePath, single, KINDS, type Rule } from '../lib/rules.ts';
import { emptyModule, exactModule, lifecycles, requestHeaders, sergoModule, startHost, timeLifecycles, type Timing } from '../lib/sergo.ts';
import { figure, interleave, ref, summarize, type Figure, type Section } from '../lib/stats.ts';

interface Case {
  name: string;
  module: () => WebAssembly.Module | Promise<WebAssembly.Module>;
  rules?: Rule[];
  /** the plugin configuration, when it is not a filter configuration of `rules` */
  configuration?: string;
  vms?: number;
  path: string;
}

const PATH = '/api/v0/items';
const FLOOR = 'empty module (floor)';
export const EXACT_RATE_LIMIT = "exact floor: RateLimit's 4 host calls, nothing else";
export const EXACT_ALL_FOUR = "exact floor: all four's 8 host calls, nothing else";
const configurationOf = (c: Case) => c.configuration ?? filterConfig(c.rules ?? []);

export function decisionCases(): Case[] {
  const cases: Case[] = [
    { name: 'host alone (hand-written module, no AssemblyScript)', module: () => trivialModule(), path: PATH },
    { name: FLOOR, module: emptyModule, rules: [], path: PATH },
    { name: EXACT_RATE_LIMIT, module: exactModule, configuration: 'ratelimit', path: PATH },
    { name: EXACT_ALL_FOUR, module: exactModule, configuration: 'allfour', path: PATH },
    { name: 'sergo, no rules', module: sergoModule, rules: [], path: PATH },
    { name: 'sergo, 1 rule, request not matched', module: sergoModule, rules: single('RateLimit'), path: '/other' },
    ...KINDS.map((k) => ({ name: `sergo, ${k} alone (1 resource)`, module: sergoModule, rules: single(k), path: PATH })),
    ...[1, 4].map((vms) => ({ name: `sergo, all four on 1 resource, ${vms} VM${vms > 1 ? 's' : ''}`, module: sergoModule, rules: allFour(), vms, path: PATH })),
  ];
  for (const n of [1, 100, 1000, 10_000]) {
    for (const template of [false, true]) {
      if (n === 1 && !template) continue; // = "RateLimit alone"
      cases.push({
        name: `sergo, RateLimit, ${n.toLocaleString('en')} ${template ? 'template' : 'exact'} resource${n > 1 ? 's' : ''}`,
        module: sergoModule,
        rules: manyResources(n, template),
        path: middlePath(n, template),
      });
    }
  }
  return cases;
}

/** One lifecycle measurement on a fresh host (configuration not timed). */
export async function measureCase(c: Case, requests: number): Promise<Timing> {
  const h = startHost(await c.module(), configurationOf(c), c.vms ?? 1, { checkHeaders: false });
  try {
    return timeLifecycles(h, requestHeaders(c.path), requests);
  } finally {
    h.host.close();
  }
}

/**
 * A host started once and measured in every round (the large configurations take a second to
 * load; the rules never block, so the state a round leaves behind is what the next one expects).
 */
async function prepare(c: Case): Promise<{ run(requests: number): Timing; close(): void }> {
  const h = startHost(await c.module(), configurationOf(c), c.vms ?? 1, { checkHeaders: false });
  const headers = requestHeaders(c.path);
  return { run: (requests) => timeLifecycles(h, headers, requests), close: () => h.host.close() };
}

/** Host calls the module makes in one lifecycle (after a few to settle lazily created state). */
async function hostCalls(c: Case): Promise<number> {
  const h = startHost(await c.module(), configurationOf(c), c.vms ?? 1, { checkHeaders: false, recordCalls: true });
  const headers = requestHeaders(c.path);
  lifecycles(h, headers, 8);
  h.host.calls.length = 0;
  lifecycles(h, headers, 8);
  h.host.close();
  return h.host.calls.length / 8;
}

export async function runDecision(opts: BenchOptions): Promise<Section> {
  const rounds = opts.quick ? 3 : 7;
  const requests = opts.quick ? 20_000 : 100_000;
  const cases = decisionCases();
  progress(`decision cost: ${cases.length} cases × ${rounds} rounds × ${requests.toLocaleString('en')} requests`);
  const hosts = new Map<string, Awaited<ReturnType<typeof prepare>>>();
  for (const c of cases) hosts.set(c.name, await prepare(c));
  const samples = await interleave(
    cases.map((c) => ({ name: c.name, run: () => hosts.get(c.name)!.run(requests) })),
    rounds,
    progress,
    'decision cost',
  );
  for (const h of hosts.values()) h.close();
  const wall = (name: string) => samples.get(name)!.map((t) => t.wallNs);
  const calls = new Map<string, number>();
  for (const c of cases) calls.set(c.name, await hostCalls(c));
  const extra = (name: string) => ({ extra: { calls: { ...summarize([calls.get(name)!]), unit: 'calls/request' } } });
  const floor = figure(FLOOR, 'ns/request', wall(FLOOR), null, extra(FLOOR));
  const figures: Figure[] = cases.map((c) =>
    c.name === FLOOR
      ? { ...floor, baseline: FLOOR, baselineMedian: floor.median, ratio: 1 }
      : figure(c.name, 'ns/request', wall(c.name), ref(floor), extra(c.name)),
  );
  return {
    id: 'decision',
    title: '1. Decision cost per request',
    method:
      `Full lifecycle (create → request_headers → response_headers → log → done → delete) through src/host on V8 ` +
      `(Node ${process.version}), one request at a time, ${requests.toLocaleString('en')} requests per run after a warm-up, ` +
      `one host per case (started once, not timed), ` +
      `${rounds} interleaved runs, median [min–max] of wall time. Rules match every request and never block ` +
      `(bench/lib/rules.ts NEVER). Host option checkHeaders: false, as sergo serve embeds the module. ` +
      `× floor = ÷ the empty module (build/empty.wasm: the same bindings and build flags, a filter that does nothing).`,
    figures,
    columns: [{ key: 'calls', title: 'host calls/request' }],
    notes: [
      '"host calls/request": calls from the module to the host per lifecycle (header reads, clock, shared data get/CAS set, metrics); ' +
        'each is a JS function here and a C++ one in Envoy. requests_passed / requests_blocked are not among them: they are ' +
        'counted in the VM and handed over on the worker\'s tick (one increment per rule and metric per second at most, ' +
        'whatever the traffic; no tick runs in this loop).',
      '"exact floor": bench/wasm/exact.ts, the empty module plus the host calls an exact decision shared by every worker cannot do ' +
        'without and nothing else — RateLimit: the path, the clock, one read of the resource\'s record and one compare-and-swap write of it; ' +
        'all four: those, the response\'s :status and the clock, and one more read and write at the stream\'s end (bench/README ' +
        '"Why not 3 host calls"). Its ÷ floor is the lowest an exact design can reach in this host; sergo ÷ it is sergo\'s own work.',
      '"host alone" is a hand-written module that exports the callbacks and does nothing (bench/host-overhead.ts): ' +
        'what the Node host and the ABI crossings cost without the AssemblyScript runtime and bindings.',
      'The N-resource rows send every request to the middle resource; exact keys are found by hash, templates by a segment trie.',
      '4 VMs: requests go to the VMs in turn; all VMs share state through proxy-wasm shared data (CAS), as Envoy workers do.',
    ],
    params: { rounds, requestsPerRun: requests, checkHeaders: false },
  };
}
