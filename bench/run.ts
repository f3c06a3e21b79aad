// `npm run bench`: sergo-wasm's performance claims, side by side, from one run.
//   1. decision cost per request through src/host, as ratios to the empty module
//   2. the same decisions made by what a Node user would use instead (rate-limiter-flexible,
//      opossum, bottleneck), sergo ÷ that stack
//   3. footprint: module size, linear memory after 10^6 requests, on_configure and translate times
//   4. HTTP through loopback (autocannon): upstream direct, a plain Node proxy, sergo serve
//   5. limitMode Global through src/rls and Redis, with and without batching
//   6. real Envoy: router alone, empty module, sergo's strategies, native local_ratelimit
// Output: markdown on stdout, bench/results.json (with --only, the other sections already there are
// kept); progress on stderr. Options: --quick (about a minute per section), --only=decision,
// alternatives,footprint,http,global,envoy, --no-write, --no-pin. See bench/README.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAlternatives } from './cases/alternatives.ts';
import { runDecision } from './cases/decision.ts';
import { runEnvoy } from './cases/envoy.ts';
import { runFootprint } from './cases/footprint.ts';
import { runGlobal } from './cases/global.ts';
import { runHttp } from './cases/http.ts';
import { referenceLoopMs } from './lib/calibrate.ts';
import { parseOptions, progress, type BenchOptions, type SectionId } from './lib/options.ts';
import type { Section } from './lib/stats.ts';
import { markdown, results, type Results } from './report.ts';
import { targetsSection } from './targets.ts';

const RUNNERS: Record<SectionId, (opts: BenchOptions) => Promise<Section>> = {
  decision: runDecision,
  alternatives: runAlternatives,
  footprint: runFootprint,
  http: runHttp,
  global: runGlobal,
  envoy: runEnvoy,
};

const opts = parseOptions(process.argv.slice(2));
const t0 = performance.now();
progress(`${opts.quick ? 'quick' : 'full'} run: ${opts.sections.join(', ')}`);
const loopAtStart = referenceLoopMs();
const sections: Section[] = [];
for (const id of opts.sections) {
  const started = performance.now();
  const section = await RUNNERS[id](opts);
  section.run = { date: new Date().toISOString(), quick: opts.quick, seconds: (performance.now() - started) / 1000 };
  sections.push(section);
  progress(`${id}: ${section.run.seconds.toFixed(1)} s`);
}
const referenceLoop = { startMs: loopAtStart, endMs: referenceLoopMs() };
const seconds = (performance.now() - t0) / 1000;
const file = join(import.meta.dirname, 'results.json');
const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Results) : undefined;
// The targets (issue 13) from this run's sections and, for those that did not run, the last ones.
const ran = new Set(sections.map((s) => s.id));
const targets = targetsSection([...sections, ...(previous?.sections ?? []).filter((s) => !ran.has(s.id))]);
targets.run = { date: new Date().toISOString(), quick: opts.quick, seconds: 0 };
sections.unshift(targets);
console.log(markdown(sections, opts, seconds, referenceLoop));
if (opts.write) {
  writeFileSync(file, `${JSON.stringify(results(sections, opts, seconds, referenceLoop, previous), null, 2)}\n`);
  progress(`wrote ${file}`);
}
progress(`done in ${seconds.toFixed(1)} s`);
