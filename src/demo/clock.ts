// The demo run's clock, and the flaky endpoint's incident on it (90% errors instead of 5% in the
// middle of the run).
export interface DemoClock {
  /** Starts the clock again: the run counts from when the proxy is ready (Envoy takes seconds to start on a busy machine). */
  restart(): void;
  /** performance.now() of the last (re)start. */
  startedAt(): number;
  /** Seconds since the last (re)start. */
  elapsed(): number;
  /** `[  1.2s]`, the prefix of event lines. */
  stamp(): string;
  /** The incident's window, ms after the start. */
  incident: readonly [number, number];
  inIncident(): boolean;
}

export function createDemoClock(durationMs: number): DemoClock {
  let t0 = performance.now();
  const incident = [0.25 * durationMs, 0.6 * durationMs] as const;
  const elapsed = () => (performance.now() - t0) / 1000;
  return {
    restart: () => void (t0 = performance.now()),
    startedAt: () => t0,
    elapsed,
    stamp: () => `[${elapsed().toFixed(1).padStart(5)}s]`,
    incident,
    inIncident: () => {
      const t = performance.now() - t0;
      return t >= incident[0] && t < incident[1];
    },
  };
}
