// The root context of the sergo filter (one per plugin configuration per worker VM): loads the
// configuration, keeps the pacing queue and resumes it from ticks, routes rate-limit service answers
// to their streams, and pools stream contexts.
import {
  RootContext, StreamContext, LogLevel, MapType, BufferType, Status, IdTable,
  log, refreshLogLevel, nowMs, readBuffer, hostPtr, hostSize, getHeader, releaseHostBuffer,
  setEffectiveContext, continueRequest, setTickPeriod, incrementMetric,
} from "./abi";
import { Config, ConfigDecoder, Rule } from "./config/config";
import { Resource } from "./match/resource";
import { casExhaustedCount, setAllowOnCasExhausted } from "./strategies/strategy";
import { setCasRetries } from "./state/shared";
import { FilterMetrics } from "./metrics";
import { ActiveConfig, buildActive } from "./active";
import { GlobalRateLimit } from "./strategies/global-ratelimit";
import { SergoStream, STATUS, parseStatus, RLS_OK, RLS_OVER_LIMIT, RLS_ERROR } from "./stream";

export class SergoRoot extends RootContext {
  active: ActiveConfig | null = null;
  filterMetrics: FilterMetrics | null = null;
  /** Streams waiting for their pacing slot, ordered by wake time. */
  queue: SergoStream[] = [];
  /** Resources matched by the current request (reused: no allocation per request). */
  matched: Resource[] = [];
  /** Rate-limit service calls in flight: token → rule, and → the stream that made it (until it ends). */
  callStreams: IdTable<SergoStream> = new IdTable<SergoStream>(64);
  callRules: IdTable<Rule> = new IdTable<Rule>(64);
  /** Streams waiting for a batch refill made by another stream: (token, stream) pairs. */
  waiterTokens: u32[] = [];
  waiters: SergoStream[] = [];
  private woken: SergoStream[] = [];
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
    // Requests paced under the previous configuration still wait for their slots: keep ticking
    // until they are resumed, even if the new configuration has no throttling.
    if (active.tickPeriodMs > 0 || this.queue.length == 0) this.setTick(active.tickPeriodMs);
    metrics.inc(metrics.configAccepted);
    log(LogLevel.INFO, "sergo: configuration accepted: " + config.rules.length.toString() + " rules on " +
      active.resources.length.toString() + " resources");
    return true;
  }

  private tickPeriodMs: u32 = 0;

  private setTick(periodMs: u32): void {
    if (periodMs == this.tickPeriodMs) return;
    this.tickPeriodMs = periodMs;
    setTickPeriod(periodMs);
  }

  onTick(): void {
    const active = this.active;
    if (this.queue.length == 0) {
      if (active !== null && active.tickPeriodMs == 0) this.setTick(0);   // left over from a reload
      return;
    }
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

  /** An answer of the rate-limit service: refill the rule's batch, then tell the stream that made
   *  the call (if it is still waiting) and the streams that waited on this refill. */
  onHttpCallResponse(token: u32, headerCount: u32, bodySize: usize, trailerCount: u32): void {
    const rule = this.callRules.get(token);
    if (rule === null) return;
    const stream = this.callStreams.get(token);
    this.callRules.delete(token);
    this.callStreams.delete(token);
    let answer = RLS_ERROR;
    if (headerCount > 0 && getHeader(MapType.HTTP_CALL_RESPONSE_HEADERS, STATUS) == Status.OK) {
      const status = parseStatus(hostPtr(), hostSize());
      if (status == 200) answer = RLS_OK;
      else if (status == 429) answer = RLS_OVER_LIMIT;
    }
    const now = nowMs();
    const strategy = rule.strategy as GlobalRateLimit;
    if (strategy.refillToken == token) strategy.refillToken = 0;
    if (answer == RLS_OK) strategy.deposit(now, stream === null);
    else if (answer == RLS_OVER_LIMIT) strategy.refused(now);
    if (stream !== null) stream.answered(rule, answer, now);
    else countAnswer(strategy, answer);   // a background refill, or a caller that has gone
    this.wakeWaiters(token, rule, answer, now);
  }

  /** Starts a background refill of a Global rule's batch when its tokens run low. */
  maybePrefetch(rule: Rule, now: i64): void {
    const strategy = rule.strategy as GlobalRateLimit;
    if (!strategy.wantsPrefetch(now)) return;
    const token = strategy.call();
    if (token == 0) {
      countAnswer(strategy, RLS_ERROR);
      return;
    }
    strategy.refillToken = token;
    this.callRules.set(token, rule);
  }

  /** A stream waits for the answer to another stream's refill call `token`. */
  addWaiter(token: u32, stream: SergoStream): void {
    this.waiterTokens.push(token);
    this.waiters.push(stream);
  }

  private wakeWaiters(token: u32, rule: Rule, answer: u8, now: i64): void {
    // Take this token's waiters out first: waking one may add it back, for the next refill.
    const woken = this.woken;
    woken.length = 0;
    let kept = 0;
    for (let i = 0; i < this.waiters.length; i++) {
      const t = unchecked(this.waiterTokens[i]);
      const w = unchecked(this.waiters[i]);
      if (t == token) woken.push(w);
      else { unchecked(this.waiterTokens[kept] = t); unchecked(this.waiters[kept] = w); kept++; }
    }
    this.waiterTokens.length = kept;
    this.waiters.length = kept;
    for (let i = 0; i < woken.length; i++) unchecked(woken[i]).refilled(rule, answer, now);
  }

  /** The stream ended while waiting for the service: it no longer wants any answer. */
  forgetCalls(stream: SergoStream): void {
    let kept = 0;
    for (let i = 0; i < this.waiters.length; i++) {
      const w = unchecked(this.waiters[i]);
      if (w === stream) continue;
      unchecked(this.waiterTokens[kept] = this.waiterTokens[i]);
      unchecked(this.waiters[kept] = w);
      kept++;
    }
    this.waiterTokens.length = kept;
    this.waiters.length = kept;
    this.callStreams.deleteValue(stream);
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

/** Counts an answer nobody waits for (metrics count calls, whoever made them). */
function countAnswer(strategy: GlobalRateLimit, answer: u8): void {
  const m = strategy.metrics!;
  if (answer == RLS_OK) incrementMetric(m.rlsOk, 1);
  else if (answer == RLS_OVER_LIMIT) incrementMetric(m.rlsOverLimit, 1);
  else incrementMetric(m.rlsErrors, 1);
}
