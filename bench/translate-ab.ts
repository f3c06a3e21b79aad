// A/B of `sergo translate` (translateFiles) of 10,000 rules, translators side by side (not part of
// `npm run bench`):   npx tsx bench/translate-ab.ts [rounds] a/src/translate.ts b/src/translate.ts …
// (a copy of another commit's src: `git archive main src | tar -x -C /tmp/old`, with node_modules
// linked beside it). Every translator's output must be the same; rounds interleaved, medians, the
// first translator the baseline; wall time, and CPU time of the process (every thread: GC included). `node --expose-gc --import tsx bench/translate-ab.ts …` collects
// garbage before each run, so that one translator's garbage is not charged to the next.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openSergoYaml } from './lib/rules.ts';

type Translate = (paths: readonly string[]) => Promise<{ config?: unknown; diagnostics: unknown[] }>;

const args = process.argv.slice(2);
const rounds = /^\d+$/.test(args[0] ?? '') ? Number(args.shift()) : 7;
const translators = await Promise.all(args.map(async (path) => ({
  path,
  translateFiles: ((await import(pathToFileURL(resolve(path)).href)) as { translateFiles: Translate }).translateFiles,
})));

const dir = mkdtempSync(join(tmpdir(), 'sergo-translate-ab-'));
const file = join(dir, 'rules.yaml');
writeFileSync(file, openSergoYaml(10_000));
const outputs = new Set<string>();
for (const t of translators) outputs.add(JSON.stringify(await t.translateFiles([file]))); // warm-up, and same output
if (outputs.size !== 1) throw new Error('the translators disagree on the output');

const samples = new Map<string, number[]>(translators.map((t) => [t.path, []]));
const cpuSamples = new Map<string, number[]>(translators.map((t) => [t.path, []]));
for (let r = 0; r < rounds; r++) {
  // Alternate the order, and collect the previous run's garbage first when allowed (--expose-gc).
  for (const t of r % 2 === 0 ? translators : [...translators].reverse()) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    await t.translateFiles([file]);
    const cpu = process.cpuUsage(cpu0);
    samples.get(t.path)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    cpuSamples.get(t.path)!.push((cpu.user + cpu.system) / 1000);
  }
}
rmSync(dir, { recursive: true, force: true });
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const cell = (m: Map<string, number[]>, path: string) => {
  const v = median(m.get(path)!);
  return `${v.toFixed(0)} (${(v / median(m.get(translators[0]!.path)!)).toFixed(2)}×)`;
};
console.log('| translator | 10,000 rules, wall ms | CPU ms (all threads) |');
console.log('|---|---:|---:|');
for (const t of translators) console.log(`| ${t.path} | ${cell(samples, t.path)} | ${cell(cpuSamples, t.path)} |`);
