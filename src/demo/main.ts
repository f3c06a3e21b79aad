// `npm start`: the README's "run it". A sample upstream (normal, slow and flaky endpoints), sergo serve
// in front of it with examples/rules.yaml (or, with --envoy, real Envoy running the bootstrap that
// `sergo translate --format envoy` emits for the same rules), a few concurrent clients per endpoint,
// and a live table of what the filter decided (redrawn every second on a terminal, plain lines every
// few seconds otherwise), then a summary. Everything it starts it stops again.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { envoyBinary, ENVOY_INSTALL } from '../envoy/index.ts';
import type { BreakerTransition } from '../serve/index.ts';
import { startLoad, type LoadRun } from './load.ts';
import { clientTable, plainStyle, ruleTable, shortRuleName, ttyStyle, type Style } from './table.ts';
import { startEnvoyProxy, startServeProxy, type DemoProxy, type ProxyHooks } from './proxy.ts';
import { startSampleUpstream, type SampleUpstream } from './upstream.ts';

export const EXAMPLE_RULES = fileURLToPath(new URL('../../examples/rules.yaml', import.meta.url));

export interface DemoOptions {
  durationSec: number;
  rules?: string;
  /** redraw a live table (default: when stdout is a terminal) */
  tty?: boolean;
  write?: (text: string) => void;
  /** sergo serve's VMs, or Envoy's workers (default 2) */
  vms?: number;
  /** run the rules in real Envoy: the binary's path (default: sergo serve) */
  envoy?: string;
}

const USAGE = `usage: npm start [-- --duration SECONDS] [--rules FILE] [--plain] [--envoy]
  --duration SECONDS  how long to run (default 20)
  --rules FILE        OpenSergo rules for demo-app's endpoints (default examples/rules.yaml)
  --plain             print plain lines even on a terminal
  --envoy             run the rules in real Envoy (${ENVOY_INSTALL} installs it) instead of sergo serve
`;

export async function demoMain(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { duration: { type: 'string' }, rules: { type: 'string' }, plain: { type: 'boolean' }, envoy: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const durationSec = values.duration === undefined ? 20 : Number(values.duration);
  if (!(durationSec > 0 && durationSec <= 3600)) {
    process.stderr.write(`--duration: expected a number of seconds (0 < s <= 3600), got ${values.duration}\n`);
    return 2;
  }
  let envoy: string | undefined;
  if (values.envoy) {
    const found = envoyBinary(false);
    if (found.path === undefined) {
      process.stderr.write(`npm start -- --envoy: Envoy is not installed (${found.error}).\n` +
        `Install it with ${ENVOY_INSTALL}, or run \`npm start\` without --envoy for the embedded sidecar.\n`);
      return 1;
    }
    envoy = found.path;
  }
  return runDemo({ durationSec, rules: values.rules, tty: values.plain ? false : undefined, envoy });
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const write = opts.write ?? ((t: string) => void process.stdout.write(t));
  const tty = opts.tty ?? (opts.write === undefined && process.stdout.isTTY === true);
  const style: Style = tty ? ttyStyle : plainStyle;
  const durationMs = opts.durationSec * 1000;
  const rules = opts.rules ?? EXAMPLE_RULES;
  // The run's clock starts once the proxy is ready (Envoy takes seconds to start on a busy machine).
  let t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const stamp = () => `[${elapsed().toFixed(1).padStart(5)}s]`;

  // The flaky endpoint has an incident in the middle of the run: 90% errors instead of 5%.
  const incident = [0.25 * durationMs, 0.6 * durationMs];
  const inIncident = () => {
    const t = performance.now() - t0;
    return t >= incident[0]! && t < incident[1]!;
  };

  const events: string[] = [];
  const event = (text: string) => {
    const line = `${stamp()} ${text}`;
    events.push(line);
    if (!tty) write(`${line}\n`);
  };
  const transitions = new Map<string, number>();
  const hooks: ProxyHooks = {
    event,
    transition: (t: BreakerTransition) => {
      const key = `${t.from} → ${t.to}`;
      transitions.set(key, (transitions.get(key) ?? 0) + t.count);
      event(`circuit breaker ${shortRuleName(t.rule)}: ${key}${t.count > 1 ? ` (${t.count} times)` : ''}`);
    },
  };

  let upstream: SampleUpstream | undefined;
  let proxy: DemoProxy | undefined;
  let load: LoadRun | undefined;
  let interrupted = false;
  let wake: (() => void) | undefined;
  const onSignal = () => {
    interrupted = true;
    wake?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let lastLines = 0;
  try {
    upstream = await startSampleUpstream({ flakyErrorRate: () => (inIncident() ? 0.9 : 0.05) });
    const vms = opts.vms ?? 2;
    proxy = opts.envoy === undefined
      ? await startServeProxy(rules, upstream.url, vms, hooks)
      : await startEnvoyProxy(rules, upstream.url, vms, opts.envoy, hooks);
    const rulesShown = relative(process.cwd(), rules) || rules;
    const hint = proxy.reloads ? 'Ctrl-C stops early; edit the rules file to see a reload' : 'Ctrl-C stops early';
    write(
      `${style.bold('sergo demo')}: ${proxy.url} (${proxy.description}, rules ${rulesShown}) → sample upstream ${upstream.url}\n` +
        `  metrics: ${proxy.metricsUrl} · running ${opts.durationSec} s${tty ? ` (${hint})` : ''}\n` +
        `  /api/flaky has an incident from ${(incident[0]! / 1000).toFixed(0)} s to ${(incident[1]! / 1000).toFixed(0)} s (90% errors instead of 5%)\n\n`,
    );
    const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
    t0 = performance.now();
    load = startLoad(proxy.url, [
      { label: 'GET /api/hello', path: '/api/hello', clients: 3, pauseMs: 20 },
      { label: 'GET /api/hello/{name}', path: () => `/api/hello/${names[Math.floor(Math.random() * names.length)]}`, clients: 7, pauseMs: 50 },
      { label: 'GET /api/slow', path: '/api/slow', clients: 8, pauseMs: 50 },
      { label: 'GET /api/flaky', path: '/api/flaky', clients: 2, pauseMs: 50 },
    ]);

    const p = proxy;
    const l = load;
    const block = async (title: string) => [
      title,
      '',
      ...ruleTable(await p.ruleStats(), style),
      '',
      ...clientTable(l.stats, style),
    ];
    const redraw = async () => {
      const lines = [
        ...await block(`${style.bold('live')} ${elapsed().toFixed(0)} s / ${opts.durationSec} s${inIncident() ? '   /api/flaky: incident (90% errors)' : ''}`),
        '',
        style.bold('  events'),
        ...(events.length === 0 ? ['  (none yet)'] : events.slice(-6).map((e) => `  ${e}`)),
      ];
      const fitted = lines.map((line) => fit(line, process.stdout.columns));
      write(`${lastLines > 0 ? `\x1b[${lastLines}F\x1b[0J` : '\x1b[?25l'}${fitted.join('\n')}\n`);
      lastLines = lines.length;
    };
    const plainStatus = async () => {
      const parts = (await p.ruleStats()).map((r) => {
        let t = `${shortRuleName(r.id)} passed ${r.passed} blocked ${r.blocked}`;
        if (r.kind === 'Throttling') t += ` queued ${r.queued}`;
        if (r.breakerState) t += ` breaker ${r.breakerState}`;
        return t;
      });
      write(`${stamp()} ${parts.join(' | ')}\n`);
    };

    const tickMs = tty ? 1000 : 3000;
    const end = t0 + durationMs;
    while (!interrupted && performance.now() < end) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, Math.min(tickMs, Math.max(0, end - performance.now())));
      });
      if (interrupted || performance.now() >= end - 50) break;
      if (tty) await redraw();
      else await plainStatus();
    }
    await load.stop();
    load = undefined;
    if (tty && lastLines > 0) write(`\x1b[${lastLines}F\x1b[0J`);

    const took = elapsed();
    const summary = [
      ...await block(`${style.bold('sergo demo summary')} (${took.toFixed(1)} s${interrupted ? ', interrupted' : ''})`),
      '',
      ...(tty && events.length > 0 ? [style.bold('  events'), ...events.slice(-10).map((e) => `  ${e}`), ''] : []),
      `  breaker transitions: ${transitions.size === 0 ? 'none' : [...transitions].map(([k, n]) => `${k} ×${n}`).join(', ')}`,
      `  ${await p.totals()}`,
      '',
    ];
    write(`${summary.join('\n')}\n`);
    return 0;
  } finally {
    if (tty) write('\x1b[?25h');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await load?.stop();
    await proxy?.close();
    await upstream?.close();
  }
}

/** A line cut to the terminal's width, so that redrawing can count lines (a wrapped line is two). */
function fit(line: string, columns: number | undefined): string {
  if (!columns) return line;
  const visible = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return visible.length < columns ? line : visible.slice(0, columns - 1);
}
