// Clocks. The guest reads wall-clock time (proxy_get_current_time_nanoseconds and WASI
// clock_time_get(REALTIME) are system time in Envoy); tests drive a ManualClock so that windows,
// pacing slots and ticks are deterministic.

export interface Clock {
  nowMs(): number;
  nowNs(): bigint;
}

/** 2026-01-01T00:00:00Z: a realistic epoch, far from 0 so code that mistakes 0 for "unset" shows. */
export const DEFAULT_EPOCH_MS = 1_767_225_600_000;

// The whole millisecond's ns, kept: the guest reads the clock on every request, and within one
// millisecond (always, on a ManualClock at whole ms) that leaves at most one BigInt to make.
let memoMs = NaN;
let memoNs = 0n;
const msToNs = (ms: number): bigint => {
  const whole = Math.floor(ms);
  if (whole !== memoMs) {
    memoNs = BigInt(whole) * 1_000_000n;
    memoMs = whole;
  }
  const frac = Math.round((ms - whole) * 1e6);
  return frac === 0 ? memoNs : memoNs + BigInt(frac);
};

export class ManualClock implements Clock {
  private ms: number;
  constructor(startMs: number = DEFAULT_EPOCH_MS) {
    this.ms = startMs;
  }
  nowMs(): number {
    return this.ms;
  }
  nowNs(): bigint {
    return msToNs(this.ms);
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ${ms} is not a non-negative number`);
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

/** Real time, for the sidecar (realTimers: true). */
export class SystemClock implements Clock {
  nowMs(): number {
    return performance.timeOrigin + performance.now();
  }
  nowNs(): bigint {
    return msToNs(this.nowMs());
  }
}

export const isSettable = (c: Clock): c is Clock & { set(ms: number): void } =>
  typeof (c as { set?: unknown }).set === 'function';
