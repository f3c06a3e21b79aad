// Text tables for the demo: the filter's per-rule counters and the clients' view.
import type { BreakerState } from '../emit/metrics.ts';
import type { RuleStats } from '../serve/index.ts';
import { percentile, type EndpointStats } from './load.ts';

export interface Style {
  bold(s: string): string;
  state(s: string): string;
}

export const plainStyle: Style = { bold: (s) => s, state: (s) => s };
export const ttyStyle: Style = {
  bold: (s) => `\x1b[1m${s}\x1b[0m`,
  state: (s) => (s === 'OPEN' ? `\x1b[31m${s}\x1b[0m` : s === 'HALF-OPEN' ? `\x1b[33m${s}\x1b[0m` : s === 'closed' ? `\x1b[32m${s}\x1b[0m` : s),
};

/** Columns padded to their widest cell; `right` marks right-aligned (numeric) columns. */
export function table(header: string[], rows: string[][], right: boolean[], style: Style = plainStyle, cellStyle?: (col: number, text: string) => string): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], styled: boolean) =>
    `  ${cells
      .map((c, i) => {
        const padded = right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
        return styled && cellStyle ? padded.replace(c, cellStyle(i, c)) : padded;
      })
      .join('  ')
      .trimEnd()}`;
  return [style.bold(line(header, false)), ...rows.map((r) => line(r, true))];
}

/** `ns/app/rule/Kind/strategy@target` → `rule/strategy`. */
export function shortRuleName(id: string): string {
  const parts = id.split('@')[0]!.split('/');
  return parts.length >= 5 ? `${parts[2]}/${parts[4]}` : id;
}

const BREAKER_TEXT: Record<BreakerState, string> = { closed: 'closed', open: 'OPEN', half_open: 'HALF-OPEN' };

export function ruleTable(rules: readonly RuleStats[], style: Style = plainStyle): string[] {
  const rows = rules.map((r) => [
    shortRuleName(r.id),
    r.kind,
    r.resource,
    String(r.passed),
    String(r.blocked),
    r.kind === 'Throttling' ? String(r.queued) : '-',
    r.breakerState ? BREAKER_TEXT[r.breakerState]! : '-',
  ]);
  return table(['rule', 'strategy', 'resource', 'passed', 'blocked', 'queued', 'breaker'], rows, [false, false, false, true, true, true, false], style, (col, text) =>
    col === 6 ? style.state(text) : text,
  );
}

const ms = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(0));

export function clientTable(endpoints: readonly EndpointStats[], style: Style = plainStyle): string[] {
  const rows = endpoints.map((e) => [
    e.label,
    String(e.sent),
    String(e.ok),
    String(e.limited),
    String(e.unavailable),
    String(e.failed),
    String(e.errors),
    ms(percentile(e.latencies, 50)),
    ms(percentile(e.latencies, 99)),
  ]);
  return table(['client requests', 'sent', '2xx', '429', '503', 'other', 'no answer', 'p50 ms', 'p99 ms'], rows, [false, true, true, true, true, true, true, true, true], style);
}
