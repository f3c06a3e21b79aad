// The sergo filter: root context (configuration, pacing queue, ticks) and stream context (the
// check chain of one request and the bookkeeping that gives every reservation back exactly once).
//
// A stream moves IDLE → (blocked: ENDED) | CALLING (asking the rate-limit service, Global rules) →
// QUEUED (waiting for a pacing slot) → FORWARDED → ENDED; CALLING and QUEUED are skipped when not
// needed. Whatever a stream took is returned in `end()`, which runs on the first of on_log, on_done
// and on_delete: CALLING and QUEUED streams roll everything back (they never reached the upstream),
// FORWARDED ones record their outcome (breakers) and release what they hold (concurrency).
import {
  RootContext, StreamContext, Action, LogLevel, MapType, BufferType, Status, Bytes,
  log, refreshLogLevel, nowMs, readBuffer, hostPtr, hostSize, getHeader, releaseHostBuffer,
  setEffectiveContext, continueRequest, setTickPeriod,
} from "./abi";
import { Config, ConfigDecoder, Rule } from "./config/config";
import { Resource } from "./match/resource";
import { Matcher } from "./match/matcher";
import { Kind, KIND_COUNT, BLOCKED, casExhaustedCount, setAllowOnCasExhausted } from "./strategies/strategy";
import { Throttling } from "./strategies/throttling";
import { GlobalRateLimit, NEEDS_CALL, GRANTED } from "./strategies/global-ratelimit";
import { IdTable } from "./abi";
import { ensureRecord, setCasRetries } from "./state/shared";
import { RuleMetrics, FilterMetrics } from "./metrics";
import { incrementMetric } from "./abi";

const PATH = new Bytes(":path");
const METHOD = new Bytes(":method");
const STATUS = new Bytes(":status");

const IDLE: u8 = 0;
const QUEUED: u8 = 1;
const FORWARDED: u8 = 2;
const ENDED: u8 = 3;
const CALLING: u8 = 4;

/** Answers of the rate-limit service. */
const RLS_OK: u8 = 0;
const RLS_OVER_LIMIT: u8 = 1;
const RLS_ERROR: u8 = 2;

/** A decoded configuration with everything the request path needs, built once per configure. */
class ActiveConfig {
  matcher: Matcher = new Matcher();
  resources: Resource[] = [];
  metrics: RuleMetrics[] = [];
  maxQueued: i32 = 1000;
  tickPeriodMs: u32 = 0;
  constructor(public config: Config) {}
}

function gcd(a: i64, b: i64): i64 {
  while (b != 0) { const t = a % b; a = b; b = t; }
  return a;
}

function buildActive(config: Config): ActiveConfig {
  const active = new ActiveConfig(config);
  active.maxQueued = config.options.maxQueuedPerVm;
  const byKey = new Map<string, Resource>();
  let tick: i64 = 0;
  for (let i = 0; i < config.rules.length; i++) {
    const rule = config.rules[i];
    let resource: Resource;
    if (byKey.has(rule.resource)) resource = byKey.get(rule.resource);
    else {
      resource = new Resource(rule.resource);
      byKey.set(rule.resource, resource);
      active.resources.push(resource);
    }
    resource.add(rule);
    const kind = rule.strategy.kind;
    const metrics = new RuleMetrics(rule.id, rule.resource, kindNameShort(kind), kind == Kind.Throttling,
                                    kind == Kind.CircuitBreaker, rule.strategy.remote);
    rule.strategy.metrics = metrics;
    active.metrics.push(metrics);
    if (rule.strategy.recordSize() > 0) ensureRecord(rule.strategy.key, rule.strategy.recordSize());
    if (kind == Kind.Throttling) {
      const interval = (rule.strategy as Throttling).intervalMs;
      // Ticks every gcd(100 ms, intervals): resumes land on the slot grid, so paced requests keep
      // their spacing, and an idle VM wakes at most every 100 ms.
      if (interval > 0) tick = gcd(tick == 0 ? 100 : tick, interval);
    }
  }
  for (let i = 0; i < active.resources.length; i++) active.matcher.add(active.resources[i]);
  active.tickPeriodMs = <u32>tick;
  return active;
}

function kindNameShort(kind: Kind): string {
  switch (kind) {
    case Kind.RateLimit: return "RateLimit";
    case Kind.Throttling: return "Throttling";
    case Kind.ConcurrencyLimit: return "ConcurrencyLimit";
    default: return "CircuitBreaker";
  }
}

export class SergoRoot extends RootContext {
  active: ActiveConfig | null = null;
  filterMetrics: FilterMetrics | null = null;
  /** Streams waiting for their pacing slot, ordered by wake time. */
  queue: SergoStream[] = [];
  /** Resources matched by the current request (reused: no allocation per request). */
  matched: Resource[] = [];
  /** Rate-limit service calls in flight: token → stream and rule. */
  callStreams: IdTable<SergoStream> = new IdTable<SergoStream>(64);
  callRules: IdTable<Rule> = new IdTable<Rule>(64);
  private pool: SergoStream[] = [];
  reportedCasExhausted: i64 = 0;

  onConfigure(size: usize): bool {
    refreshLogLevel();
    if (this.filterMetrics === null) this.filterMetrics = new FilterMetrics();
    const metrics = this.filterMetrics!;
    let config: Config | null = null;
    const decoder = new ConfigDecoder();
    if (size == 0) {
      decoder.error = "the plugin configuration is empty (expected {\"version\": 1, \"rules\": [...]})";
    } else if (readBuffer(BufferType.PLUGIN_CONFIGURATION, size) != Status.OK) {
      decoder.error = "the plugin configuration could not be read";
    } else {
      const ptr = hostPtr();
      config = decoder.decode(ptr, hostSize());
      releaseHostBuffer(ptr);
    }
    if (config === null) {
      metrics.inc(metrics.configRejected);
      log(LogLevel.CRITICAL, "sergo: configuration rejected: " + decoder.error +
        (this.active !== null ? " (the previous configuration keeps serving)" : ""));
      return false;
    }
    setCasRetries(config.options.casRetries);
    setAllowOnCasExhausted(config.options.allowOnCasExhausted);
    const active = buildActive(config);
    this.active = active;
    setTickPeriod(active.tickPeriodMs);
    metrics.inc(metrics.configAccepted);
    log(LogLevel.INFO, "sergo: configuration accepted: " + config.rules.length.toString() + " rules on " +
      active.resources.length.toString() + " resources");
    return true;
  }

  onTick(): void {
    if (this.queue.length == 0) return;
    const now = nowMs();
    let due = 0;
    while (due < this.queue.length && unchecked(this.queue[due]).wakeAt <= now) due++;
    if (due == 0) return;
    for (let i = 0; i < due; i++) {
      const stream = unchecked(this.queue[i]);
      stream.resume(now);
      setEffectiveContext(stream.id);
      continueRequest();
    }
    // Drop the resumed prefix in place.
    const remaining = this.queue.length - due;
    for (let i = 0; i < remaining; i++) unchecked(this.queue[i] = this.queue[i + due]);
    this.queue.length = remaining;
  }

  onHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): void {
    const stream = this.callStreams.get(token);
    const rule = this.callRules.get(token);
    if (stream === null || rule === null) return;   // the stream ended meanwhile
    this.callStreams.delete(token);
    this.callRules.delete(token);
    let answer = RLS_ERROR;
    if (headerCount > 0 && getHeader(MapType.HTTP_CALL_RESPONSE_HEADERS, STATUS) == Status.OK) {
      const status = parseStatus(hostPtr(), hostSize());
      if (status == 200) answer = RLS_OK;
      else if (status == 429) answer = RLS_OVER_LIMIT;
    }
    stream.answered(rule, answer, nowMs());
  }

  enqueue(stream: SergoStream): void {
    const q = this.queue;
    q.push(stream);
    let i = q.length - 1;
    while (i > 0 && unchecked(q[i - 1]).wakeAt > stream.wakeAt) {
      unchecked(q[i] = q[i - 1]);
      i--;
    }
    unchecked(q[i] = stream);
  }

  dequeue(stream: SergoStream): void {
    const q = this.queue;
    const i = q.indexOf(stream);
    if (i < 0) return;
    for (let j = i; j < q.length - 1; j++) unchecked(q[j] = q[j + 1]);
    q.length = q.length - 1;
  }

  /** CAS exhaustion is counted in a global (strategies have no metrics handle); flush it as a metric. */
  reportCasExhausted(): void {
    const pending = casExhaustedCount - this.reportedCasExhausted;
    if (pending > 0 && this.filterMetrics !== null) {
      incrementMetric(this.filterMetrics!.casExhausted, pending);
      this.reportedCasExhausted = casExhaustedCount;
    }
  }

  newStream(id: u32): StreamContext {
    const stream = this.pool.length > 0 ? this.pool.pop() : new SergoStream(this);
    return stream;
  }

  releaseStream(stream: StreamContext): void {
    if (this.pool.length < 1024) this.pool.push(changetype<SergoStream>(stream));
  }
}

export class SergoStream extends StreamContext {
  phase: u8 = IDLE;
  wakeAt: i64 = 0;
  forwardedAt: i64 = 0;
  observed: bool = false;
  hasBreaker: bool = false;
  /** Reservations taken: rules[i] admitted this request with tickets[i]. */
  rules: Rule[] = [];
  tickets: i64[] = [];
  /** Rate-limit service calls: rules still to call / tokens in flight, and the first refusal. */
  toCall: Rule[] = [];
  callTokens: u32[] = [];
  refusedBy: Rule | null = null;

  constructor(public root: SergoRoot) { super(); }

  onRequestHeaders(headerCount: u32, endOfStream: bool): u32 {
    this.phase = IDLE;
    this.observed = false;
    this.hasBreaker = false;
    this.rules.length = 0;
    this.tickets.length = 0;
    this.toCall.length = 0;
    this.refusedBy = null;
    const active = this.root.active;
    if (active === null || active.resources.length == 0) return Action.CONTINUE;
    if (getHeader(MapType.HTTP_REQUEST_HEADERS, PATH) != Status.OK) return Action.CONTINUE;
    const pathPtr = hostPtr();
    let pathLen = hostSize();
    for (let i: usize = 0; i < pathLen; i++) {
      if (load<u8>(pathPtr + i) == 0x3f) { pathLen = i; break; }   // strip "?query"
    }
    const matched = this.root.matched;
    matched.length = 0;
    active.matcher.match(pathPtr, pathLen, matched);
    if (matched.length == 0) return Action.CONTINUE;
    if (!filterByMethod(matched)) return Action.CONTINUE;

    const now = nowMs();
    let wake = now;
    this.wakeAt = now;
    for (let kind = 0; kind < KIND_COUNT; kind++) {
      for (let r = 0; r < matched.length; r++) {
        const rules = unchecked(unchecked(matched[r]).rulesByKind[kind]);
        for (let i = 0; i < rules.length; i++) {
          const rule = unchecked(rules[i]);
          const ticket = rule.strategy.check(now);
          if (casExhaustedCount != this.root.reportedCasExhausted) this.root.reportCasExhausted();
          if (ticket == BLOCKED) return this.block(rule, now);
          if (ticket == NEEDS_CALL) {
            this.toCall.push(rule);
            continue;
          }
          this.rules.push(rule);
          this.tickets.push(ticket);
          if (kind == Kind.CircuitBreaker) this.hasBreaker = true;
          if (kind == Kind.Throttling && ticket > wake) {
            if (this.root.queue.length >= active.maxQueued) {
              const m = this.root.filterMetrics;
              if (m !== null) m.inc(m.queueOverflow);
              return this.block(rule, now);
            }
            wake = ticket;
          }
        }
      }
    }
    this.wakeAt = wake;
    if (this.toCall.length > 0) return this.callService(now);
    return this.admit(now);
  }

  /** Every check passed: wait for the pacing slot if there is one, else go upstream. */
  private admit(now: i64): u32 {
    for (let i = 0; i < this.rules.length; i++) {
      incrementMetric(unchecked(this.rules[i]).strategy.metrics!.passed, 1);
    }
    if (this.wakeAt > now) {
      this.phase = QUEUED;
      this.root.enqueue(this);
      this.countThrottling(true);
      return Action.PAUSE;
    }
    this.phase = FORWARDED;
    this.forwardedAt = now;
    return Action.CONTINUE;
  }

  /** The local checks passed; ask the rate-limit service for each Global rule, in parallel. */
  private callService(now: i64): u32 {
    this.phase = CALLING;
    this.callTokens.length = 0;
    const toCall = this.toCall;
    for (let i = 0; i < toCall.length; i++) {
      const rule = unchecked(toCall[i]);
      const token = (rule.strategy as GlobalRateLimit).call();
      if (token == 0) {
        this.note(rule, RLS_ERROR, now);   // refused by the host (e.g. no such cluster)
        continue;
      }
      this.callTokens.push(token);
      this.root.callStreams.set(token, this);
      this.root.callRules.set(token, rule);
    }
    if (this.callTokens.length > 0) return Action.PAUSE;
    return this.decide(now);
  }

  /** Records one answer of the service; the first refusal decides the fallback. */
  private note(rule: Rule, answer: u8, now: i64): void {
    const strategy = rule.strategy as GlobalRateLimit;
    const m = strategy.metrics!;
    if (answer == RLS_OK) {
      incrementMetric(m.rlsOk, 1);
      strategy.deposit(now);
      this.rules.push(rule);
      this.tickets.push(GRANTED);
      return;
    }
    if (answer == RLS_OVER_LIMIT) incrementMetric(m.rlsOverLimit, 1);
    else {
      incrementMetric(m.rlsErrors, 1);
      if (strategy.failOpen) {
        incrementMetric(m.rlsFailedOpen, 1);
        this.rules.push(rule);
        this.tickets.push(GRANTED);
        return;
      }
    }
    if (this.refusedBy === null) this.refusedBy = rule;
  }

  /** An answer from the service arrived (from the root's on_http_call_response). */
  answered(rule: Rule, answer: u8, now: i64): void {
    if (this.phase != CALLING) return;
    this.note(rule, answer, now);
    let pending = false;
    for (let i = 0; i < this.callTokens.length; i++) {
      if (this.root.callStreams.get(unchecked(this.callTokens[i])) !== null) { pending = true; break; }
    }
    if (pending) return;
    setEffectiveContext(this.id);
    if (this.decide(now) == Action.CONTINUE) continueRequest();
  }

  /** All answers are in: block with the refusing rule's fallback, or admit. */
  private decide(now: i64): u32 {
    const refusedBy = this.refusedBy;
    if (refusedBy !== null) return this.block(refusedBy, now);
    return this.admit(now);
  }

  private forgetCalls(): void {
    for (let i = 0; i < this.callTokens.length; i++) {
      const token = unchecked(this.callTokens[i]);
      this.root.callStreams.delete(token);
      this.root.callRules.delete(token);
    }
    this.callTokens.length = 0;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): u32 {
    if (this.phase == FORWARDED && !this.observed && this.hasBreaker) {
      let status: u32 = 0;
      if (getHeader(MapType.HTTP_RESPONSE_HEADERS, STATUS) == Status.OK) status = parseStatus(hostPtr(), hostSize());
      this.observe(status, nowMs());
    }
    return Action.CONTINUE;
  }

  onLog(): void { this.end(); }
  onDone(): bool { this.end(); return true; }
  onDelete(): void { this.end(); this.phase = IDLE; }

  /** Called from the root's tick when the pacing slot has arrived. */
  resume(now: i64): void {
    this.phase = FORWARDED;
    this.forwardedAt = now;
    this.countThrottling(false);
  }

  private countThrottling(queued: bool): void {
    for (let i = 0; i < this.rules.length; i++) {
      const strategy = unchecked(this.rules[i]).strategy;
      if (strategy.kind == Kind.Throttling) {
        const m = strategy.metrics!;
        incrementMetric(queued ? m.queued : m.dequeued, 1);
      }
    }
  }

  private block(rule: Rule, now: i64): u32 {
    this.rollbackAll(now);
    incrementMetric(rule.strategy.metrics!.blocked, 1);
    rule.fallback.send();
    this.phase = ENDED;
    return Action.PAUSE;  // ignored by the host after a local reply
  }

  private rollbackAll(now: i64): void {
    for (let i = this.rules.length - 1; i >= 0; i--) {
      unchecked(this.rules[i]).strategy.rollback(unchecked(this.tickets[i]), now);
    }
    this.rules.length = 0;
    this.tickets.length = 0;
  }

  private observe(status: u32, now: i64): void {
    this.observed = true;
    const elapsed = now - this.forwardedAt;
    for (let i = 0; i < this.rules.length; i++) {
      const strategy = unchecked(this.rules[i]).strategy;
      if (strategy.kind == Kind.CircuitBreaker) strategy.observe(unchecked(this.tickets[i]), status, elapsed, now);
    }
  }

  /** The stream is over (first of on_log / on_done / on_delete): give back what it holds, once. */
  private end(): void {
    const phase = this.phase;
    this.phase = ENDED;
    if (phase == ENDED || phase == IDLE || (this.rules.length == 0 && phase != CALLING)) {
      this.rules.length = 0;
      this.tickets.length = 0;
      return;
    }
    // Only breakers use the time when giving back or recording: spare the host call otherwise.
    const now: i64 = this.hasBreaker ? nowMs() : 0;
    if (phase == CALLING) {
      this.forgetCalls();
      this.rollbackAll(now);
      return;
    }
    if (phase == QUEUED) {
      this.root.dequeue(this);
      this.rollbackAll(now);
      return;
    }
    if (!this.observed && this.hasBreaker) this.observe(0, now);
    for (let i = 0; i < this.rules.length; i++) {
      unchecked(this.rules[i]).strategy.finish(unchecked(this.tickets[i]), now);
    }
    this.rules.length = 0;
    this.tickets.length = 0;
  }
}

/** Drops candidates whose METHOD differs from the request's; reads :method only if one names a
 *  method. Returns whether any candidate is left. */
function filterByMethod(matched: Resource[]): bool {
  let named = false;
  for (let i = 0; i < matched.length; i++) if (unchecked(matched[i]).method.length > 0) { named = true; break; }
  if (!named) return true;
  let methodPtr: usize = 0;
  let methodLen: usize = 0;
  if (getHeader(MapType.HTTP_REQUEST_HEADERS, METHOD) == Status.OK) {
    methodPtr = hostPtr();
    methodLen = hostSize();
  }
  let kept = 0;
  for (let i = 0; i < matched.length; i++) {
    const r = unchecked(matched[i]);
    if (r.acceptsMethod(methodPtr, methodLen)) unchecked(matched[kept++] = r);
  }
  matched.length = kept;
  return kept > 0;
}

function parseStatus(ptr: usize, len: usize): u32 {
  if (len != 3) return 0;
  let v: u32 = 0;
  for (let i: usize = 0; i < 3; i++) {
    const c = <u32>load<u8>(ptr + i) - 0x30;
    if (c > 9) return 0;
    v = v * 10 + c;
  }
  return v;
}
