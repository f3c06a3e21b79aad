// What the streams of one root context (a plugin configuration on one worker VM) share: the
// configuration in force, the filter-wide metrics, and the streams waiting for their time (paced
// requests), which this worker's tick releases. Generic over the stream type, so that it needs to
// know nothing of streams but `wakeAt`, `makeEffective()` and `release(now)`.
//
// The tick is armed for the earliest waiting stream, so a request is released at its time, never a
// tick period later (in Envoy each set_tick_period re-arms the worker's timer from now, and every
// tick re-arms it for one more period), or for the flush of the requests' counts (metrics.ts),
// whichever comes first. It stops at the first tick that finds nobody waiting and nothing to flush.
import { ActiveConfig } from "./active";
import { FilterMetrics, FLUSH_MS } from "./metrics";
import { setTickPeriod, incrementMetric, nowMs } from "./abi";
import { casExhaustedCount, countsPending, flushCounts } from "./strategies/strategy";
import { flushLaneCounts } from "./lane/lane";

const NEVER: i64 = i64.MAX_VALUE;

export class Worker<S> {
  active: ActiveConfig | null = null;
  metrics: FilterMetrics | null = null;
  /** Streams waiting for their time, ordered by wakeAt. */
  private waiting: S[] = [];
  private due: S[] = [];
  private tickPeriodMs: u32 = 0;
  private nextTickAt: i64 = NEVER;
  private reportedCasExhausted: i64 = 0;
  /** When the counts made since the last flush are handed to the host (NEVER: none pending). */
  private flushAt: i64 = NEVER;

  /** options.maxQueuedPerVm streams wait already. */
  queueFull(): bool {
    const active = this.active;
    return active === null || this.waiting.length >= active.maxQueued;
  }

  enqueue(stream: S, now: i64): void {
    const q = this.waiting;
    q.push(stream);
    let i = q.length - 1;
    while (i > 0 && unchecked(q[i - 1]).wakeAt > stream.wakeAt) {
      unchecked(q[i] = q[i - 1]);
      i--;
    }
    unchecked(q[i] = stream);
    if (stream.wakeAt < this.nextTickAt) this.armTick(stream.wakeAt, now);
  }

  dequeue(stream: S): void {
    const q = this.waiting;
    const i = q.indexOf(stream);
    if (i < 0) return;
    for (let j = i; j < q.length - 1; j++) unchecked(q[j] = q[j + 1]);
    q.length = q.length - 1;
  }

  /** After a decision: its counts go to the host on a tick FLUSH_MS after the first pending one. */
  afterDecision(now: i64): void {
    this.flushCasExhausted();
    if (this.flushAt == NEVER && countsPending()) this.scheduleFlush(now);
  }

  /** A count made without the clock at hand (a lane's): the clock is read only to schedule the
   *  flush, once per flush. */
  countsQueued(): void {
    if (this.flushAt == NEVER) this.scheduleFlush(nowMs());
  }

  private scheduleFlush(now: i64): void {
    this.flushAt = now + FLUSH_MS;
    if (this.flushAt < this.nextTickAt) this.armTick(this.flushAt, now);
  }

  /** The tick: flush the counts when due, release every stream whose time has come, then arm for
   *  whichever is next. */
  onTick(now: i64): void {
    this.nextTickAt = this.tickPeriodMs > 0 ? now + this.tickPeriodMs : NEVER;   // Envoy re-armed it
    if (this.flushAt <= now) {
      flushCounts();
      flushLaneCounts();
      this.flushAt = NEVER;
    }
    this.release(now);
    const q = this.waiting;
    const next = q.length > 0 && unchecked(q[0]).wakeAt < this.flushAt ? unchecked(q[0]).wakeAt : this.flushAt;
    if (next == NEVER) this.stopTick();
    else if (next != this.nextTickAt) this.armTick(next, now);
  }

  private release(now: i64): void {
    const q = this.waiting;
    if (q.length == 0) return;
    let count = 0;
    while (count < q.length && unchecked(q[count]).wakeAt <= now) count++;
    // Take the due prefix out first: a released stream may wait again (a second pacing step).
    const due = this.due;
    due.length = 0;
    for (let i = 0; i < count; i++) due.push(unchecked(q[i]));
    const remaining = q.length - count;
    for (let i = 0; i < remaining; i++) unchecked(q[i] = q[i + count]);
    q.length = remaining;
    for (let i = 0; i < due.length; i++) {
      const stream = unchecked(due[i]);
      stream.makeEffective();
      stream.release(now);
    }
  }

  private armTick(at: i64, now: i64): void {
    let period = at - now;
    if (period < 1) period = 1;
    if (period > <i64>u32.MAX_VALUE) period = <i64>u32.MAX_VALUE;
    this.tickPeriodMs = <u32>period;
    this.nextTickAt = now + period;
    setTickPeriod(this.tickPeriodMs);
  }

  private stopTick(): void {
    if (this.tickPeriodMs == 0) return;
    this.tickPeriodMs = 0;
    this.nextTickAt = NEVER;
    setTickPeriod(0);
  }

  /** CAS exhaustion is counted in a global (strategies have no metrics handle); flush it as a metric. */
  flushCasExhausted(): void {
    const pending = casExhaustedCount - this.reportedCasExhausted;
    if (pending == 0 || this.metrics === null) return;
    incrementMetric(this.metrics!.casExhausted, pending);
    this.reportedCasExhausted = casExhaustedCount;
  }
}
