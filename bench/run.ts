// `npm run bench`: sergo-wasm's performance claims, side by side, from one run.
//   1. decision cost per request through src/host, as ratios to the empty module
//   2. the same decisions made by what a Node user would use instead (rate-limiter-flexible,
//      opossum, bottleneck), sergo ÷ that stack
//   3. footprint: module size, linear memory after 10^6 requests, on_configure and translate times
//   4. HTTP through loopback (autocannon): upstream direct, a plain Node proxy, sergo serve
//   5. limitMode Global through src/rls and Redis, with and without batching
// Output: markdown on stdout, bench/results.json; progress on stderr. Options: --quick (under a
// minute), --only=decision,alternatives,footprint,http,global, --no-write. See bench/README.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAlternatives } from './cases/alternatives.ts';
import { runDecision } from './cases/decision.ts';
import { runFootprint } from './cases/footprint.ts';
import { runGlobal } from './cases/global.ts';
import { runHttp } from './cases/http.ts';
import { parseOptions, progress, type BenchOptions, type SectionId } from './lib/options.ts';
import type { Section } from './lib/stats.ts';
import { markdown, results } from './report.ts';

const RUNNERS: Record<SectionId, (opts: BenchOptions) => Promise<Section>> = {
  decision: runDecision,
  alternatives: runAlternatives,
  footprint: runFootprint,
  http: runHttp,
  global: runGlobal,
};

const opts = parseOptions(process.argv.slice(2));
const t0 = performance.now();
progress(`${opts.quick ? 'quick' : 'full'} run: ${opts.sections.join(', ')}`);
const sections: Section[] = [];
for (const id of opts.sections) sections.push(await RUNNERS[id](opts));
const seconds = (performance.now() - t0) / 1000;
console.log(markdown(sections, opts, seconds));
if (opts.write) {
  const file = join(import.meta.dirname, 'results.json');
  writeFileSync(file, `${JSON.stringify(results(sections, opts, seconds), null, 2)}\n`);
  progress(`wrote ${file}`);
}
progress(`done in ${seconds.toFixed(1)} s`);
