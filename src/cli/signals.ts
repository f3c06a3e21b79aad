// Long-running commands (serve, xds): SIGHUP reloads, SIGTERM/SIGINT close, once, then the command ends.
export interface Running {
  reload(): unknown;
  close(): Promise<unknown>;
}

/** Resolves once a stop signal has been handled and `running.close()` has finished. */
export function runUntilStopped(running: Running, say: (line: string) => void, name: string, stopping: string): Promise<void> {
  const reload = () => void running.reload();
  process.on('SIGHUP', reload);
  return new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.off('SIGHUP', reload);
      say(`${name}: info: ${signal} received, ${stopping}\n`);
      void running.close().then(() => resolve());
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
