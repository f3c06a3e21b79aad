// Breaker transitions, found the way an operator finds them in Envoy: from the filter's
// `breaker_transitions` counters (tags naming the rule, sergo_from, sergo_to). Checked shortly after
// request activity (transitions only happen while requests come and go), one log line each.
import { RULE_METRICS, ruleIdOf, TAGS, TRANSITION_ORDER as ORDER } from '../emit/metrics.ts';
import type { ProxyWasmHost } from '../host/index.ts';
import type { Logger } from './log.ts';
import { decodeStatName } from './stats.ts';

export interface BreakerTransition {
  rule: string;
  resource: string;
  from: string;
  to: string;
  count: number;
}

export class BreakerWatcher {
  private readonly seen = new Map<string, bigint>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly host: ProxyWasmHost,
    private readonly logger: Logger,
    private readonly onTransition?: (t: BreakerTransition) => void,
    private readonly delayMs = 25,
  ) {
    this.check(false); // take the baseline (state kept across a restart of serve is not news)
  }

  /** Something happened; look for transitions soon (coalesced). */
  poke(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.check(true);
    }, this.delayMs);
    this.timer.unref();
  }

  check(report = true): BreakerTransition[] {
    const found: BreakerTransition[] = [];
    for (const [name, stat] of this.host.metrics()) {
      if (!name.endsWith(RULE_METRICS.breakerTransitions)) continue;
      const last = this.seen.get(name) ?? 0n;
      if (stat.value === last) continue;
      this.seen.set(name, stat.value);
      if (!report || stat.value < last) continue;
      const tags = new Map(decodeStatName(name).labels);
      found.push({
        rule: ruleIdOf(tags) ?? '?',
        resource: tags.get(TAGS.resource) ?? '?',
        from: tags.get(TAGS.from) ?? '?',
        to: tags.get(TAGS.to) ?? '?',
        count: Number(stat.value - last),
      });
    }
    found.sort((a, b) => ORDER.indexOf(`${a.from}>${a.to}`) - ORDER.indexOf(`${b.from}>${b.to}`));
    for (const t of found) {
      const times = t.count > 1 ? ` (${t.count} times)` : '';
      const line = `circuit breaker ${t.rule}: ${t.from} → ${t.to}${times}`;
      if (t.to === 'open') this.logger.warn(line);
      else this.logger.info(line);
      this.onTransition?.(t);
    }
    return found;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
