// What the demo prints: the banner, the live table (redrawn in place on a terminal) or plain status
// lines, and the summary.
import type { DemoClock } from './clock.ts';
import type { Journal } from './journal.ts';
import type { LoadRun } from './load.ts';
import type { DemoProxy } from './proxy.ts';
import { clientTable, ruleTable, shortRuleName, type Style } from './table.ts';

export interface ScreenOptions {
  proxy: DemoProxy;
  load: LoadRun;
  clock: DemoClock;
  journal: Journal;
  style: Style;
  tty: boolean;
  durationSec: number;
  write: (text: string) => void;
}

export interface Screen {
  /** One periodic update: the live table on a terminal, a status line otherwise. */
  tick(): Promise<void>;
  /** Erases the live table (before the summary replaces it). */
  clear(): void;
  summary(interrupted: boolean): Promise<void>;
}

export function banner(o: { style: Style; proxy: DemoProxy; upstreamUrl: string; rulesShown: string; durationSec: number; tty: boolean; incident: readonly [number, number] }): string {
  const hint = o.proxy.reloads ? 'Ctrl-C stops early; edit the rules file to see a reload' : 'Ctrl-C stops early';
  return `${o.style.bold('sergo demo')}: ${o.proxy.url} (${o.proxy.description}, rules ${o.rulesShown}) → sample upstream ${o.upstreamUrl}\n` +
    `  metrics: ${o.proxy.metricsUrl} · running ${o.durationSec} s${o.tty ? ` (${hint})` : ''}\n` +
    `  /api/flaky has an incident from ${(o.incident[0] / 1000).toFixed(0)} s to ${(o.incident[1] / 1000).toFixed(0)} s (90% errors instead of 5%)\n\n`;
}

export function createScreen(o: ScreenOptions): Screen {
  const { style, journal, clock, write } = o;
  // How many lines the live table took, to move the cursor back over it.
  let lastLines = 0;
  const block = async (title: string) => [title, '', ...ruleTable(await o.proxy.ruleStats(), style), '', ...clientTable(o.load.stats, style)];

  const redraw = async () => {
    const incident = clock.inIncident() ? '   /api/flaky: incident (90% errors)' : '';
    const lines = [
      ...await block(`${style.bold('live')} ${clock.elapsed().toFixed(0)} s / ${o.durationSec} s${incident}`),
      '',
      style.bold('  events'),
      ...(journal.events.length === 0 ? ['  (none yet)'] : journal.events.slice(-6).map((e) => `  ${e}`)),
    ];
    const fitted = lines.map((line) => fit(line, process.stdout.columns));
    write(`${lastLines > 0 ? `\x1b[${lastLines}F\x1b[0J` : '\x1b[?25l'}${fitted.join('\n')}\n`);
    lastLines = lines.length;
  };

  const summary = async (interrupted: boolean) => {
    const { events, transitions } = journal;
    const lines = [
      ...await block(`${style.bold('sergo demo summary')} (${clock.elapsed().toFixed(1)} s${interrupted ? ', interrupted' : ''})`),
      '',
      ...(o.tty && events.length > 0 ? [style.bold('  events'), ...events.slice(-10).map((e) => `  ${e}`), ''] : []),
      `  breaker transitions: ${transitions.size === 0 ? 'none' : [...transitions].map(([k, n]) => `${k} ×${n}`).join(', ')}`,
      `  ${await o.proxy.totals()}`,
      '',
    ];
    write(`${lines.join('\n')}\n`);
  };

  return {
    tick: () => (o.tty ? redraw() : plainStatus(o)),
    clear: () => {
      if (o.tty && lastLines > 0) write(`\x1b[${lastLines}F\x1b[0J`);
    },
    summary,
  };
}

async function plainStatus(o: ScreenOptions): Promise<void> {
  const parts = (await o.proxy.ruleStats()).map((r) => {
    let t = `${shortRuleName(r.id)} passed ${r.passed} blocked ${r.blocked}`;
    if (r.kind === 'Throttling') t += ` queued ${r.queued}`;
    if (r.breakerState) t += ` breaker ${r.breakerState}`;
    return t;
  });
  o.write(`${o.clock.stamp()} ${parts.join(' | ')}\n`);
}

/** A line cut to the terminal's width, so that redrawing can count lines (a wrapped line is two). */
function fit(line: string, columns: number | undefined): string {
  if (!columns) return line;
  const visible = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return visible.length < columns ? line : visible.slice(0, columns - 1);
}
