// Ctrl-C (or SIGTERM) ends the run early but still prints the summary and stops what was started.
export interface Interrupt {
  readonly interrupted: boolean;
  /** Sleeps `ms`, or less when a signal arrives. */
  sleep(ms: number): Promise<void>;
  /** Removes the signal handlers. */
  dispose(): void;
}

export function watchInterrupt(): Interrupt {
  let interrupted = false;
  let wake: (() => void) | undefined;
  const onSignal = () => {
    interrupted = true;
    wake?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    get interrupted() {
      return interrupted;
    },
    sleep: (ms) =>
      new Promise<void>((r) => {
        wake = r;
        setTimeout(r, ms);
      }),
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
