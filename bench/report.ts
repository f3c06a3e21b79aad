// The report: markdown on stdout (one section per benchmark) and bench/results.json (every figure
// with its unit, its baseline and the ratio; medians over repeated runs with min and max).
import { cpus, totalmem } from 'node:os';
import { SECTION_IDS, type BenchOptions } from './lib/options.ts';
import type { Figure, Section, Summary } from './lib/stats.ts';

const en = (x: number, digits = 0) => x.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A value in its unit, with as many digits as make sense. */
export function formatValue(x: number, unit: string): string {
  if (!Number.isFinite(x)) return String(x);
  if (unit === 'bytes' || unit === 'pages' || unit === 'keys' || unit === 'rules') return en(x);
  const a = Math.abs(x);
  if (a >= 100) return en(x);
  if (a >= 10) return en(x, 1);
  if (a >= 1) return en(x, 2);
  return x.toPrecision(2);
}

export function formatRatio(r: number | null): string {
  if (r === null) return '—';
  if (!Number.isFinite(r)) return String(r);
  if (r >= 100) return `${en(r)}×`;
  if (r >= 10) return `${en(r, 1)}×`;
  if (r >= 0.1) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(2)}×`;
}

const range = (s: Summary, unit: string) => (s.runs > 1 ? `${formatValue(s.min, unit)}–${formatValue(s.max, unit)}` : '');
const cell = (s: string) => s.replace(/\|/g, '\\|');

export function sectionMarkdown(s: Section): string {
  const out = [`## ${s.title}`, ''];
  if (s.skipped !== undefined) {
    out.push(`**Skipped:** ${s.skipped}`, '');
    return out.join('\n');
  }
  out.push(s.method, '');
  const extra = s.columns ?? [];
  out.push(
    `| case | median | unit | min–max | baseline | ratio |${extra.map((c) => ` ${c.title} |`).join('')}`,
    `|---|---:|---|---:|---|---:|${extra.map(() => '---:|').join('')}`,
  );
  for (const f of s.figures) {
    const cols = extra.map((c) => {
      const e = f.extra?.[c.key];
      return e === undefined ? ' — |' : ` ${formatValue(e.median, e.unit)} |`;
    });
    out.push(
      `| ${cell(f.name)} | ${formatValue(f.median, f.unit)} | ${f.unit} | ${range(f, f.unit)} | ${cell(f.baseline ?? '—')} | ${formatRatio(f.ratio)} |${cols.join('')}`,
    );
  }
  const notes = [...s.figures.filter((f) => f.note !== undefined).map((f) => `${f.name}: ${f.note}`), ...s.notes];
  if (notes.length > 0) out.push('', ...notes.map((n) => `- ${n}`));
  out.push('');
  return out.join('\n');
}

/** bench/lib/calibrate.ts's loop at the start and the end of the run. */
export interface ReferenceLoop { startMs: number; endMs: number }

export function markdown(sections: readonly Section[], opts: BenchOptions, seconds: number, loop: ReferenceLoop): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const head = [
    `# sergo-wasm benchmarks${opts.quick ? ' (quick)' : ''}`,
    '',
    `${new Date().toISOString()} · Node ${process.version} · ${cpu} · ${cpus().length} cores · ${en(totalmem() / 2 ** 30, 1)} GiB · ` +
      `${en(seconds, 1)} s. Ratio = median ÷ the baseline's median (same run). bench/README.md explains every baseline.`,
    '',
    `Machine speed: the reference loop (bench/lib/calibrate.ts) took ${en(loop.startMs, 0)} ms at the start and ${en(loop.endMs, 0)} ms at the end ` +
      '(a larger number is a slower machine; figures with an absolute target in ms scale with it).',
    '',
  ];
  return [...head, ...sections.map(sectionMarkdown)].join('\n');
}

export interface Results {
  schema: 'sergo-bench/1';
  date: string;
  node: string;
  v8: string;
  platform: string;
  cpu: string;
  cores: number;
  quick: boolean;
  seconds: number;
  referenceLoop?: ReferenceLoop;
  ratioDefinition: string;
  sections: Section[];
}

/**
 * results.json: this run's sections, and (with --only) the sections of `previous` that did not
 * run now, each keeping its own `run` (when, quick or full, how long), in the order of SECTION_IDS.
 */
export function results(sections: readonly Section[], opts: BenchOptions, seconds: number, referenceLoop: ReferenceLoop, previous?: Results): Results {
  const fresh = new Set(sections.map((s) => s.id));
  const kept = (previous?.sections ?? []).filter((s) => !fresh.has(s.id))
    .map((s) => ({ ...s, run: s.run ?? { date: previous!.date, quick: previous!.quick, seconds: NaN } }));
  const order = (s: Section) => (SECTION_IDS as readonly string[]).indexOf(s.id);
  return {
    schema: 'sergo-bench/1',
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    quick: opts.quick,
    seconds,
    referenceLoop,
    ratioDefinition: 'ratio = median ÷ baselineMedian, where baseline names another figure of the same section',
    sections: [...sections, ...kept].sort((a, b) => order(a) - order(b)),
  };
}

export type { Figure, Section };
