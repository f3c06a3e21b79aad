// Figures, summaries and the interleaved runner shared by every benchmark section.

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** number of samples (repeated runs) */
  runs: number;
}

export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) throw new Error('summarize: no samples');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: s.length };
}

/**
 * One reported figure. `ratio` is always `median ÷ baseline median`; `baseline` names the figure
 * it is compared with (same section unless it says otherwise), null when it stands alone.
 */
export interface Figure extends Summary {
  name: string;
  unit: string;
  baseline: string | null;
  baselineMedian: number | null;
  ratio: number | null;
  /** further measurements of the same case (e.g. wall time beside CPU time), same shape */
  extra?: Record<string, Summary & { unit: string }>;
  note?: string;
}

export interface Section {
  id: string;
  title: string;
  /** how it was measured (one paragraph, printed above the table) */
  method: string;
  figures: Figure[];
  notes: string[];
  /** set when the section was not run (e.g. no redis-server); figures is then empty */
  skipped?: string;
  /** extra table columns, by `extra` key */
  columns?: { key: string; title: string }[];
  /** section-specific parameters recorded in results.json */
  params?: Record<string, unknown>;
  /** when this section ran, in which mode, and how long it took */
  run?: { date: string; quick: boolean; seconds: number };
}

export function figure(
  name: string,
  unit: string,
  xs: readonly number[] | Summary,
  baseline?: { name: string; median: number } | null,
  more: Pick<Figure, 'extra' | 'note'> = {},
): Figure {
  const s = Array.isArray(xs) ? summarize(xs) : (xs as Summary);
  return {
    name,
    unit,
    ...s,
    baseline: baseline?.name ?? null,
    baselineMedian: baseline?.median ?? null,
    ratio: baseline ? s.median / baseline.median : null,
    ...more,
  };
}

export const ref = (f: Figure): { name: string; median: number } => ({ name: f.name, median: f.median });

/**
 * Runs every case once per round, in the same order each round, for `rounds` rounds: machine
 * noise (other processes, GC, frequency changes) then hits all cases alike, and the median over
 * rounds is compared. Each case returns one sample (any shape).
 */
export async function interleave<T>(
  cases: readonly { name: string; run: () => T | Promise<T> }[],
  rounds: number,
  progress: (message: string) => void,
  label: string,
): Promise<Map<string, T[]>> {
  const samples = new Map<string, T[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) samples.get(c.name)!.push(await c.run());
    progress(`${label}: round ${r + 1}/${rounds} done`);
  }
  return samples;
}

/** CPU time (user + system, all threads of this process) in ns since `from`. */
export function cpuNsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) * 1000;
}
