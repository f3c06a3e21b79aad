// The work queue: namespaces to reconcile. Changes within `debounceMs` coalesce into one run; a
// namespace runs once at a time (a change during its run makes one more run after it); at most
// `concurrency` namespaces run at once; a failed run is retried with a back-off (1 s … 60 s).
export interface QueueOptions {
  debounceMs: number;
  concurrency: number;
}

const BACKOFF_MS = { first: 1000, max: 60_000 };

export class NamespaceQueue {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly ready: string[] = [];
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  private readonly backoff = new Map<string, number>();
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly run: (namespace: string) => Promise<void>, private readonly options: QueueOptions) {}

  add(namespace: string, delayMs = this.options.debounceMs): void {
    if (this.closed) return;
    if (this.running.has(namespace)) {
      this.again.add(namespace);
      return;
    }
    if (this.timers.has(namespace) || this.ready.includes(namespace)) return;
    const timer = setTimeout(() => {
      this.timers.delete(namespace);
      this.ready.push(namespace);
      this.pump();
    }, delayMs);
    this.timers.set(namespace, timer);
  }

  /** Resolves when nothing is pending, scheduled or running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
  }

  private isIdle(): boolean {
    return this.timers.size === 0 && this.ready.length === 0 && this.running.size === 0;
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.options.concurrency && this.ready.length > 0) {
      const namespace = this.ready.shift()!;
      this.running.add(namespace);
      void this.run(namespace).then(
        () => this.finished(namespace, true),
        () => this.finished(namespace, false),
      );
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private finished(namespace: string, ok: boolean): void {
    this.running.delete(namespace);
    if (ok) this.backoff.delete(namespace);
    if (this.again.delete(namespace)) this.add(namespace);
    else if (!ok) {
      const delay = this.backoff.get(namespace) ?? BACKOFF_MS.first;
      this.backoff.set(namespace, Math.min(delay * 2, BACKOFF_MS.max));
      this.add(namespace, delay);
    }
    this.pump();
  }
}
