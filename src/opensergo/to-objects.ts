// Decoded payloads → the OpenSergo objects they came from, as the YAML input would hold them, so
// they go through the same reader (src/spec) into the same IR. The control plane's CRD → proto
// conversion loses information (docs/opensergo.md, "What the payloads lose"); each loss is either
// recovered exactly or reported once per object (`losses`), never enforced silently. A value that
// cannot stand for any CR (a failed conversion, an unknown enum value) refuses the push (`errors`).
import { createHash } from 'node:crypto';
import { FAULT_TOLERANCE_API_VERSION } from '../spec/kinds/index.ts';
import type { Payload } from './decode.ts';
import type { BareKind } from './kinds.ts';

/** An OpenSergo object rebuilt from a payload (what `kubectl get -o yaml` shows, less the server's fields). */
export interface RebuiltObject {
  apiVersion: string;
  kind: BareKind;
  metadata: { name: string; namespace: string; labels: { app: string } };
  spec: Record<string, unknown>;
}

export interface Rebuilt {
  objects: RebuiltObject[];
  /** `Kind/name: what was lost and what sergo enforces instead` */
  losses: string[];
  errors: string[];
}

/** Where the objects belong: the subscription's namespace and app. */
export interface Owner {
  namespace: string;
  app: string;
}

const UNIT_MS: Record<number, number> = { 1: 1, 2: 1000, 3: 60_000, 4: 3_600_000, 5: 86_400_000 };
const LIMIT_MODES: Record<number, string> = { 1: 'Local', 2: 'Global' };
const BREAKER_MODES: Record<number, string> = { 1: 'SlowRequestRatio', 2: 'ErrorRequestRatio' };

/** What the control plane does to `…ms`-less durations (pkg/util Str2MillSeconds): said in each loss. */
const SCALING = "the control plane converts only 'ms' durations right ('5s' arrives as 50, '5m'/'5min' as 3000, '5h' as 180000)";

export function rebuildObjects(kind: BareKind, payloads: readonly Payload[], owner: Owner): Rebuilt {
  const out: Rebuilt = { objects: [], losses: [], errors: [] };
  payloads.forEach((payload, index) => {
    const one = new ObjectBuilder(kind, payload, index, owner);
    const object = one.build();
    out.losses.push(...one.losses.map((l) => `${one.label()}: ${l}`));
    out.errors.push(...one.errors.map((e) => `${one.label()}: ${e}`));
    if (object === undefined) return;
    // Two rules with the same content get the same derived name: the same rules, enforced once.
    if (out.objects.some((o) => o.metadata.name === object.metadata.name)) {
      out.losses.push(`${one.label()}: ${payloads.length} rules of the push include identical ones (the payload has no name to tell them apart): enforced once`);
      return;
    }
    out.objects.push(object);
  });
  return out;
}

class ObjectBuilder {
  readonly losses: string[] = [];
  readonly errors: string[] = [];
  private name = '';

  constructor(private readonly kind: BareKind, private readonly p: Payload, private readonly index: number, private readonly owner: Owner) {}

  label(): string {
    return `${this.kind}/${this.name === '' ? `data[${this.index}]` : this.name}`;
  }

  build(): RebuiltObject | undefined {
    this.name = this.kind === 'FaultToleranceRule' ? ruleName(this.p) : str(this.p.name);
    if (this.name === '') {
      this.errors.push('has no name');
      return undefined;
    }
    const spec = this.spec();
    if (this.errors.length > 0) return undefined;
    const { namespace, app } = this.owner;
    return { apiVersion: FAULT_TOLERANCE_API_VERSION, kind: this.kind, metadata: { name: this.name, namespace, labels: { app } }, spec };
  }

  private spec(): Record<string, unknown> {
    switch (this.kind) {
      case 'FaultToleranceRule':
        return this.rule();
      case 'RateLimitStrategy':
        return this.rateLimit();
      case 'ThrottlingStrategy':
        return this.throttling();
      case 'ConcurrencyLimitStrategy':
        return this.concurrency();
      case 'CircuitBreakerStrategy':
        return this.breaker();
    }
  }

  private rule(): Record<string, unknown> {
    const targets = list(this.p.targets).map((t) => ({ targetResourceName: str(t.target_resource_name) }));
    const strategies = list(this.p.strategies).map((s) => (str(s.kind) === '' ? { name: str(s.name) } : { name: str(s.name), kind: str(s.kind) }));
    const action = this.p.action as Payload | null | undefined;
    if (action !== null && action !== undefined && str(action.name) !== '') {
      this.losses.push(`fallback action ${str(action.name)} is named, but the control plane delivers no fallback actions: blocked requests get sergo's default reply (429)`);
    } else {
      this.losses.push("no fallback action (the control plane's CRD has no fallbackAction field, so a CR's is dropped): blocked requests get sergo's default reply (429)");
    }
    return { targets, strategies };
  }

  private rateLimit(): Record<string, unknown> {
    const metric = num(this.p.metric_type);
    if (metric !== 0 && metric !== 1) this.errors.push(`metric_type ${metric} is not a MetricType`);
    const spec: Record<string, unknown> = { metricType: 'RequestAmount', limitMode: this.limitMode(num(this.p.limit_mode), 'RateLimitStrategy'), threshold: num(this.p.threshold) };
    const unit = num(this.p.stat_duration_time_unit);
    const duration = num(this.p.stat_duration);
    // UNKNOWN: the CRD's field is statDurationSeconds, which the control plane copies as it is.
    if (unit === 0 || unit === 2) spec.statDurationSeconds = duration;
    else if (UNIT_MS[unit] !== undefined) spec.statDuration = `${duration * UNIT_MS[unit]!}ms`;
    else this.errors.push(`stat_duration_time_unit ${unit} is not a TimeUnit`);
    return spec;
  }

  private limitMode(mode: number, kind: string): string {
    if (mode === 0) {
      const rate = kind === 'RateLimitStrategy';
      const why = rate ? ' (the control plane sends it for every RateLimitStrategy: it reads Local/Global as numbers)' : '';
      const each = rate ? 'each Envoy admitting the whole threshold' : 'each Envoy allowing the whole maxConcurrency';
      this.losses.push(`limitMode arrives as MODE_UNKNOWN${why}: enforced as Local, ${each}; a Global CR is enforced per Envoy`);
      return 'Local';
    }
    const named = LIMIT_MODES[mode];
    if (named === undefined) this.errors.push(`limit_mode ${mode} is not a LimitMode`);
    return named ?? 'Local';
  }

  private throttling(): Record<string, unknown> {
    return {
      minIntervalOfRequests: this.millis('minIntervalOfRequests', num(this.p.min_interval_millis_of_requests), 0),
      queueTimeout: this.millis('queueTimeout', num(this.p.queue_timeout_millis), 0),
    };
  }

  private concurrency(): Record<string, unknown> {
    return { maxConcurrency: num(this.p.max_concurrency), limitMode: this.limitMode(num(this.p.limit_mode), 'ConcurrencyLimitStrategy') };
  }

  private breaker(): Record<string, unknown> {
    const mode = BREAKER_MODES[num(this.p.strategy)];
    if (mode === undefined) this.errors.push(`strategy ${num(this.p.strategy)} is not SlowRequestRatio (1) or ErrorRequestRatio (2)`);
    const spec: Record<string, unknown> = {
      strategy: mode,
      triggerRatio: this.percent(num(this.p.trigger_ratio)),
      statDuration: this.millis('statDuration', num(this.p.stat_duration), num(this.p.stat_duration_time_unit)),
      recoveryTimeout: this.millis('recoveryTimeout', num(this.p.recovery_timeout), num(this.p.recovery_timeout_time_unit)),
      minRequestAmount: num(this.p.min_request_amount),
    };
    // ErrorRequestRatio: the control plane sends max_allowed_rt_millis -1 (the CR has no slowConditions).
    if (mode === 'SlowRequestRatio') {
      const slow = (this.p.slow_condition ?? {}) as Payload;
      spec.slowConditions = { maxAllowedRt: this.millis('slowConditions.maxAllowedRt', num(slow.max_allowed_rt_millis), 0) };
    }
    return spec;
  }

  /** A duration field: `<v>ms`, with the unit when one is given; UNKNOWN is read as milliseconds. */
  private millis(field: string, value: number, unit: number): string {
    if (value < 0) {
      this.errors.push(`${field} is ${value}: the control plane could not convert the CR's duration (it fails on 'd' and on a missing field)`);
      return '0ms';
    }
    if (unit !== 0) {
      const factor = UNIT_MS[unit];
      if (factor === undefined) this.errors.push(`${field}: time unit ${unit} is not a TimeUnit`);
      return `${value * (factor ?? 1)}ms`;
    }
    if (value > 0 && value % 10 === 0) {
      this.losses.push(`${field} arrives as ${value} ms, and ${SCALING}: if the CR says '${value / 10}s', that is what it became; enforced as ${value} ms (write this duration in ms in the CR)`);
    }
    return `${value}ms`;
  }

  /** The ratio as the CRD's whole percent (the control plane divided it by 100). */
  private percent(ratio: number): string {
    const percent = Math.round(ratio * 100);
    if (!(ratio >= 0 && ratio <= 1) || Math.abs(percent - ratio * 100) > 1e-6) {
      this.errors.push(`trigger_ratio ${ratio} is not a whole percent from 0 to 1 (the CRD's '0%'..'100%')`);
    }
    return `${percent}%`;
  }
}

/** The payload carries no metadata.name: a name derived from its content, stable across pushes. */
function ruleName(p: Payload): string {
  const content = JSON.stringify([p.targets ?? [], p.strategies ?? [], p.action ?? null]);
  return `opensergo-rule-${createHash('sha256').update(content).digest('hex').slice(0, 10)}`;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function list(v: unknown): Payload[] {
  return Array.isArray(v) ? (v as Payload[]) : [];
}
