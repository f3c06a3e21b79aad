// What runs the demo's rules: `sergo serve` (the embedded sidecar, the default) or real Envoy with the
// bootstrap `sergo translate --format envoy` emits (`--envoy`). Both answer the same questions: the
// filter's counters per rule, breaker transitions as they happen, and a closing count.
import { BREAKER_STATES, decodeStatName, RULE_METRICS, ruleIdOf, TAGS, TRANSITION_ORDER } from '../emit/metrics.ts';
import { launchEnvoy, readStats, type LaunchedEnvoy } from '../envoy/index.ts';
import { startServe, type BreakerTransition, type Logger, type RuleStats, type ServeHandle } from '../serve/index.ts';
import { translateFiles } from '../translate.ts';

export interface ProxyHooks {
  /** a line for the demo's event list */
  event(text: string): void;
  transition(t: BreakerTransition): void;
}

export interface DemoProxy {
  url: string;
  adminUrl: string;
  /** where the metrics are, for the header */
  metricsUrl: string;
  /** what enforces the rules, for the header */
  description: string;
  /** whether an edit of the rules file is applied while it runs */
  reloads: boolean;
  ruleStats(): Promise<RuleStats[]>;
  /** the summary's last line: requests handled and answered by the filter */
  totals(): Promise<string>;
  close(): Promise<void>;
}

export async function startServeProxy(rules: string, upstream: string, vms: number, hooks: ProxyHooks): Promise<DemoProxy> {
  const logger: Logger = {
    error: (m) => hooks.event(`error: ${m}`),
    warn: (m) => !m.startsWith('circuit breaker ') && hooks.event(`warning: ${m}`),
    info: (m) => !m.startsWith('circuit breaker ') && !m.startsWith('listening on') && m !== 'stopped' && hooks.event(m),
    debug: () => {},
    enabled: (l) => l !== 'debug',
  };
  const serve: ServeHandle = await startServe({
    rules: [rules], upstream, listen: '127.0.0.1:0', admin: '127.0.0.1:0', vms, logger, onTransition: hooks.transition,
  });
  return {
    url: serve.url,
    adminUrl: serve.adminUrl,
    metricsUrl: `${serve.adminUrl}/stats/prometheus`,
    description: `sergo serve, ${vms} VMs`,
    reloads: true,
    ruleStats: async () => serve.ruleStats(),
    totals: async () => `sergo serve handled ${serve.counters.requests} requests, ${serve.counters.localResponses} answered by the filter's fallbacks`,
    close: () => serve.close(),
  };
}

/** Real Envoy (`binary`) with `workers` worker threads; the filter's counters come from its admin /stats. */
export async function startEnvoyProxy(rules: string, upstream: string, workers: number, binary: string, hooks: ProxyHooks): Promise<DemoProxy> {
  const translated = await translateFiles([rules]);
  if (translated.config === undefined) throw new Error(`${rules}: ${translated.errors.map((d) => d.message).join('; ')}`);
  const configured = translated.config.rules;
  const launched = await launchEnvoy({ rules: { file: rules }, upstream, concurrency: workers, binary, logLevel: 'warning' });
  const transitions = new TransitionWatch(hooks);
  const logs = new LogWatch(launched, hooks);
  const stats = async () => {
    logs.check();
    const s = await readStats(launched.adminUrl, 'sergo');
    transitions.check(s);
    return s;
  };
  return {
    url: launched.url,
    adminUrl: launched.adminUrl,
    metricsUrl: `${launched.adminUrl}/stats/prometheus`,
    description: `Envoy, ${workers} workers, bootstrap from sergo translate --format envoy`,
    reloads: false,
    async ruleStats() {
      const byId = new Map<string, RuleStats>(configured.map((r) => [r.id, { id: r.id, resource: r.resource, kind: r.strategy.kind, passed: 0, blocked: 0, queued: 0 }]));
      for (const [name, value] of await stats()) {
        const d = decodeStatName(name);
        const r = byId.get(ruleIdOf(new Map(d.labels)) ?? '');
        if (r === undefined) continue;
        if (d.name.endsWith(RULE_METRICS.passed)) r.passed = value;
        else if (d.name.endsWith(RULE_METRICS.blocked)) r.blocked = value;
        else if (d.name.endsWith(RULE_METRICS.queued)) r.queued = value;
        else if (d.name.endsWith(RULE_METRICS.breakerState)) r.breakerState = BREAKER_STATES[value] ?? 'closed';
      }
      for (const r of byId.values()) if (r.kind === 'CircuitBreaker') r.breakerState ??= 'closed';
      return [...byId.values()];
    },
    async totals() {
      const all = await readStats(launched.adminUrl, 'downstream_rq_total|requests_blocked');
      let blocked = 0;
      for (const [name, v] of all) if (name.endsWith('requests_blocked')) blocked += v;
      return `Envoy handled ${all.get('http.ingress_http.downstream_rq_total') ?? 0} requests, ${blocked} answered by the filter's fallbacks`;
    },
    close: () => launched.stop(),
  };
}

/** Breaker transitions from the growth of Envoy's `breaker_transitions` counters between two reads. */
class TransitionWatch {
  private readonly seen = new Map<string, number>();
  constructor(private readonly hooks: ProxyHooks) {}

  check(stats: Map<string, number>): void {
    const found: BreakerTransition[] = [];
    for (const [name, value] of stats) {
      if (!name.endsWith(RULE_METRICS.breakerTransitions)) continue;
      const last = this.seen.get(name) ?? 0;
      this.seen.set(name, value);
      if (value <= last) continue;
      const tags = new Map(decodeStatName(name).labels);
      found.push({
        rule: ruleIdOf(tags) ?? '?', resource: tags.get(TAGS.resource) ?? '?',
        from: tags.get(TAGS.from) ?? '?', to: tags.get(TAGS.to) ?? '?', count: value - last,
      });
    }
    found.sort((a, b) => TRANSITION_ORDER.indexOf(`${a.from}>${a.to}`) - TRANSITION_ORDER.indexOf(`${b.from}>${b.to}`));
    for (const t of found) this.hooks.transition(t);
  }
}

/** Envoy's own log lines after start (it runs at --log-level warning, so each is news) as demo events. */
class LogWatch {
  private shown: number;
  constructor(private readonly launched: LaunchedEnvoy, private readonly hooks: ProxyHooks) {
    this.shown = this.lines().length; // start-up advice (e.g. no connection limit) is not news
  }

  private lines(): string[] {
    return this.launched.envoy.logs().split('\n').filter((l) => l.trim() !== '');
  }

  check(): void {
    const lines = this.lines();
    for (const line of lines.slice(this.shown)) this.hooks.event(`envoy: ${line.replace(/^\[[^\]]*\]\[\d+\]/, '').trim()}`);
    this.shown = lines.length;
  }
}
