// Command line of `npm run bench` and the progress log (stderr).

export const SECTION_IDS = ['decision', 'alternatives', 'footprint', 'http', 'global', 'envoy'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

export interface BenchOptions {
  quick: boolean;
  sections: SectionId[];
  /** write bench/results.json (default true; --no-write for trial runs) */
  write: boolean;
  /** the Envoy section pins Envoy to CPU 0 and the load generator and upstream to CPU 1 (default; --no-pin: the scheduler decides) */
  pin: boolean;
}

const FLAGS = ['--quick', '--no-write', '--no-pin'];

export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const write = !argv.includes('--no-write');
  const pin = !argv.includes('--no-pin');
  let sections: SectionId[] = [...SECTION_IDS];
  const only = argv.find((a) => a.startsWith('--only='));
  if (only !== undefined) {
    const wanted = only.slice('--only='.length).split(',').filter((s) => s !== '');
    const unknown = wanted.filter((s) => !(SECTION_IDS as readonly string[]).includes(s));
    if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(', ')} (known: ${SECTION_IDS.join(', ')})`);
    sections = wanted as SectionId[];
  }
  const bad = argv.filter((a) => a.startsWith('--') && !FLAGS.includes(a) && !a.startsWith('--only='));
  if (bad.length > 0) throw new Error(`unknown option(s) ${bad.join(' ')} (known: --quick, --only=${SECTION_IDS.join(',')}, --no-write, --no-pin)`);
  return { quick, sections, write, pin };
}

const started = performance.now();

/** One progress line on stderr, with the time since the start. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
}
