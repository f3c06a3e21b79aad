// The targets of issue 13, each beside the figure of this run (or, with --only, of the last run of
// its section kept in results.json) that measures it. Computed from the other sections, never
// measured here: a target is a ratio or a count from figures printed above it.
import { EXACT_ALL_FOUR, EXACT_RATE_LIMIT } from './cases/decision.ts';
import { EXACT_ALL_FOUR as ENVOY_EXACT_ALL_FOUR, EXACT_RATE_LIMIT as ENVOY_EXACT_RATE_LIMIT } from './cases/envoy.ts';
import type { Figure, Section } from './lib/stats.ts';

interface Target {
  measure: string;
  unit: string;
  /** `max`: the figure must be ≤ the bound; `min`: ≥ it. */
  bound: number;
  kind: 'max' | 'min';
  /** where the figure comes from */
  source: string;
  value(find: Find): number | undefined;
  /** the same measure of the floor of an exact design (bench/wasm/exact.ts in sergo's place), where one applies */
  exact?(find: Find): number | undefined;
  /** a further figure of the same measure for scale (a note), e.g. a module that does nothing */
  also?: { label: string; value(find: Find): number | undefined };
}
type Find = (section: string, figure: string) => Figure | undefined;

const median = (f: Figure | undefined) => f?.median;
const calls = (f: Figure | undefined) => f?.extra?.calls?.median;
const ratioOf = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a / b);

const ALL_FOUR = 'sergo, all four on 1 resource, 1 VM';
const RATE_LIMIT = 'sergo, RateLimit alone (1 resource)';

/** sergo's (or the exact floor's) RateLimit CPU above the empty module ÷ rate-limiter-flexible's above a bare handler. */
const aboveFloorVsRlf = (row: string) => (f: Find) => {
  const sergo = median(f('alternatives', row));
  const floor = median(f('alternatives', 'empty module (floor)'));
  const rlf = median(f('alternatives', 'rate-limiter-flexible RateLimiterMemory'));
  const bare = median(f('alternatives', 'Node: async handler, no limiter'));
  if (sergo === undefined || floor === undefined || rlf === undefined || bare === undefined) return undefined;
  return (sergo - floor) / (rlf - bare);
};
const envoyRps = (name: string) => (f: Find) => median(f('envoy', `${name}: requests/s`));
const envoyRatio = (a: string, b: string) => (f: Find) => ratioOf(envoyRps(a)(f), envoyRps(b)(f));

export const TARGETS: Target[] = [
  { measure: 'host calls per request, all four strategies on one resource', unit: 'calls/request', bound: 6, kind: 'max',
    source: `decision: "${ALL_FOUR}", host calls/request`, value: (f) => calls(f('decision', ALL_FOUR)),
    exact: (f) => calls(f('decision', EXACT_ALL_FOUR)) },
  { measure: 'host calls per request, RateLimit alone', unit: 'calls/request', bound: 3, kind: 'max',
    source: `decision: "${RATE_LIMIT}", host calls/request`, value: (f) => calls(f('decision', RATE_LIMIT)),
    exact: (f) => calls(f('decision', EXACT_RATE_LIMIT)) },
  { measure: 'all four ÷ floor (src/host decision bench)', unit: '×', bound: 2, kind: 'max',
    source: `decision: "${ALL_FOUR}" ÷ the empty module`, value: (f) => f('decision', ALL_FOUR)?.ratio ?? undefined,
    exact: (f) => f('decision', EXACT_ALL_FOUR)?.ratio ?? undefined },
  { measure: 'RateLimit alone ÷ floor', unit: '×', bound: 1.3, kind: 'max',
    source: `decision: "${RATE_LIMIT}" ÷ the empty module`, value: (f) => f('decision', RATE_LIMIT)?.ratio ?? undefined,
    exact: (f) => f('decision', EXACT_RATE_LIMIT)?.ratio ?? undefined },
  { measure: "sergo RateLimit's CPU above the empty module ÷ rate-limiter-flexible's above a bare handler", unit: '×', bound: 1, kind: 'max',
    source: 'alternatives: (sergo RateLimit − empty module) ÷ (rate-limiter-flexible − async handler, no limiter)',
    value: aboveFloorVsRlf('sergo RateLimit'), exact: aboveFloorVsRlf(EXACT_RATE_LIMIT) },
  { measure: 'in Envoy: sergo all four, permissive ÷ Envoy with build/empty.wasm (requests/s)', unit: '×', bound: 0.95, kind: 'min',
    source: 'envoy: (e) ÷ (b), requests/s',
    value: envoyRatio('(e) sergo, all four on one resource', '(b) build/empty.wasm'),
    exact: envoyRatio(ENVOY_EXACT_ALL_FOUR, '(b) build/empty.wasm') },
  { measure: "in Envoy: sergo RateLimit ÷ Envoy's native local_ratelimit (requests/s)", unit: '×', bound: 0.9, kind: 'min',
    source: 'envoy: (d) RateLimit alone ÷ (f), requests/s',
    value: envoyRatio('(d) sergo, RateLimit alone', '(f) native local_ratelimit'),
    exact: envoyRatio(ENVOY_EXACT_RATE_LIMIT, '(f) native local_ratelimit'),
    also: { label: 'build/empty.wasm, a wasm filter that does nothing, ÷ native local_ratelimit', value: envoyRatio('(b) build/empty.wasm', '(f) native local_ratelimit') } },
  { measure: 'release module, raw', unit: 'bytes', bound: 65_536, kind: 'max',
    source: 'footprint: "build/sergo.wasm (release), raw"', value: (f) => median(f('footprint', 'build/sergo.wasm (release), raw')) },
  { measure: 'on_configure, 10,000 rules, one VM', unit: 'ms', bound: 100, kind: 'max',
    source: 'footprint: "on_configure, 10,000 rules"', value: (f) => median(f('footprint', 'on_configure, 10,000 rules')) },
  { measure: 'sergo translate, 10,000 rules', unit: 'ms', bound: 1000, kind: 'max',
    source: 'footprint: "sergo translate (translateFiles), 10,000 rules"',
    value: (f) => median(f('footprint', 'sergo translate (translateFiles), 10,000 rules')) },
  { measure: 'linear memory growth over 10⁶ requests after warm-up', unit: 'pages', bound: 0, kind: 'max',
    source: 'footprint: pages after 10⁶ more requests − after warm-up',
    value: (f) => {
      const after = f('footprint', 'linear memory after 1,000,000 more requests') ?? f('footprint', 'linear memory after 250,000 more requests');
      const warm = median(f('footprint', 'linear memory after warm-up (10,000 requests)'));
      return after === undefined || warm === undefined ? undefined : after.median - warm;
    } },
];

/** The targets section, from `sections` (this run's and those kept from the last results.json). */
export function targetsSection(sections: readonly Section[]): Section {
  const find = (id: string, name: string) => sections.find((s) => s.id === id)?.figures.find((f) => f.name === name);
  const when = (id: string) => sections.find((s) => s.id === id)?.run?.date ?? 'not run';
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const t of TARGETS) {
    const v = t.value(find);
    const section = t.source.split(':')[0]!;
    const bound = `${t.kind === 'max' ? '≤' : '≥'} ${t.bound.toLocaleString('en')}`;
    if (v === undefined || !Number.isFinite(v)) {
      notes.push(`${t.measure}: no figure (section "${section}" ${when(section)}), target ${bound}`);
      continue;
    }
    const meets = (x: number) => (t.kind === 'max' ? x <= t.bound : x >= t.bound);
    const floor = t.exact?.(find);
    const exact = floor === undefined || !Number.isFinite(floor) ? undefined : floor;
    figures.push({
      name: t.measure, unit: t.unit, median: v, min: v, max: v, runs: 1,
      baseline: `target ${bound}`, baselineMedian: t.bound, ratio: t.bound === 0 ? null : v / t.bound,
      ...(exact === undefined ? {} : { extra: { exact: { median: exact, min: exact, max: exact, runs: 1, unit: t.unit } } }),
      note: `${meets(v) ? 'met' : 'NOT met'}${exact === undefined || meets(v) ? '' : meets(exact) ? '; the floor of an exact design meets it: the rest is sergo\'s own work' :
        '; the floor of an exact design misses it too: no exact design reaches it in this host'} — ${t.source} (section run ${when(section)})`,
    });
    const also = t.also?.value(find);
    if (t.also !== undefined && also !== undefined && Number.isFinite(also)) notes.push(`${t.measure}, for scale: ${t.also.label} ${also.toFixed(2)} in the same rounds.`);
  }
  return {
    id: 'targets',
    title: '0. Issue 13 targets',
    method: 'Each target of issue 13 beside the figure that measures it, taken from the sections below (with --only, ' +
      'a section that did not run gives its figure from the last results.json). ratio = figure ÷ target; the note says whether it is met. ' +
      '"floor of an exact design": the same measure with bench/wasm/exact.ts in sergo\'s place — the empty module plus the host calls an exact ' +
      'decision shared by every worker cannot do without (RateLimit: the path, the clock, one read and one compare-and-swap write of the ' +
      'record; all four: those, the response\'s :status and the clock, one more read and write at the stream\'s end) and nothing else. ' +
      'A target that this floor misses is out of reach of any exact design in the host measured.',
    figures,
    columns: [{ key: 'exact', title: 'floor of an exact design' }],
    notes,
  };
}
