// `npm start`: the README's "run it". A sample upstream (normal, slow and flaky endpoints), sergo serve
// in front of it with examples/rules.yaml (or, with --envoy, real Envoy running the bootstrap that
// `sergo translate --format envoy` emits for the same rules), a few concurrent clients per endpoint,
// and a live table of what the filter decided (redrawn every second on a terminal, plain lines every
// few seconds otherwise), then a summary. Everything it starts it stops again.
import { parseArgs } from 'node:util';
import { join, relative } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { envoyBinary, ENVOY_INSTALL } from '../envoy/index.ts';
import { createDemoClock } from './clock.ts';
import { watchInterrupt, type Interrupt } from './interrupt.ts';
import { createJournal } from './journal.ts';
import { startLoad, type LoadRun, type EndpointLoad } from './load.ts';
import { banner, createScreen } from './screen.ts';
import { plainStyle, ttyStyle, type Style } from './table.ts';
import { startEnvoyProxy, startServeProxy, type DemoProxy } from './proxy.ts';
import { startSampleUpstream, type SampleUpstream } from './upstream.ts';

export const EXAMPLE_RULES = join(PACKAGE_ROOT, 'examples', 'rules.yaml');

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
  const rules = opts.rules ?? EXAMPLE_RULES;
  const clock = createDemoClock(opts.durationSec * 1000);
  const journal = createJournal(clock.stamp, tty, write);
  const interrupt = watchInterrupt();
  let upstream: SampleUpstream | undefined;
  let proxy: DemoProxy | undefined;
  let load: LoadRun | undefined;
  try {
    upstream = await startSampleUpstream({ flakyErrorRate: () => (clock.inIncident() ? 0.9 : 0.05) });
    const vms = opts.vms ?? 2;
    proxy = opts.envoy === undefined
      ? await startServeProxy(rules, upstream.url, vms, journal.hooks)
      : await startEnvoyProxy(rules, upstream.url, vms, opts.envoy, journal.hooks);
    const rulesShown = relative(process.cwd(), rules) || rules;
    write(banner({ style, proxy, upstreamUrl: upstream.url, rulesShown, durationSec: opts.durationSec, tty, incident: clock.incident }));
    clock.restart();
    load = startLoad(proxy.url, demoLoad());
    const screen = createScreen({ proxy, load, clock, journal, style, tty, durationSec: opts.durationSec, write });
    await tickUntilEnd(clock.startedAt() + opts.durationSec * 1000, tty ? 1000 : 3000, interrupt, screen.tick);
    await load.stop();
    load = undefined;
    screen.clear();
    await screen.summary(interrupt.interrupted);
    return 0;
  } finally {
    if (tty) write('\x1b[?25h');
    interrupt.dispose();
    await load?.stop();
    await proxy?.close();
    await upstream?.close();
  }
}

/** A few concurrent clients per endpoint of the sample upstream. */
function demoLoad(): EndpointLoad[] {
  const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
  return [
    { label: 'GET /api/hello', path: '/api/hello', clients: 3, pauseMs: 20 },
    { label: 'GET /api/hello/{name}', path: () => `/api/hello/${names[Math.floor(Math.random() * names.length)]}`, clients: 7, pauseMs: 50 },
    { label: 'GET /api/slow', path: '/api/slow', clients: 8, pauseMs: 50 },
    { label: 'GET /api/flaky', path: '/api/flaky', clients: 2, pauseMs: 50 },
  ];
}

/** Calls `tick` every tickMs until `end` (a performance.now() time) or a signal; no tick right at the end. */
async function tickUntilEnd(end: number, tickMs: number, interrupt: Interrupt, tick: () => Promise<void>): Promise<void> {
  while (!interrupt.interrupted && performance.now() < end) {
    await interrupt.sleep(Math.min(tickMs, Math.max(0, end - performance.now())));
    if (interrupt.interrupted || performance.now() >= end - 50) break;
    await tick();
  }
}
