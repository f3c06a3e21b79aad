// Watches rule files for changes. Each file's *directory* is watched, so editors and tools that
// replace the file (write a temporary file, then rename it over the original; Kubernetes ConfigMap
// volumes swapping their `..data` symlink) are seen as well as in-place writes. Events are
// debounced: a burst of writes (truncate, then write) is one change.
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface FileWatcher {
  close(): void;
}

export interface WatchOptions {
  debounceMs?: number;
  /** polling interval used where fs.watch is unavailable (default 1000 ms) */
  pollMs?: number;
  onError?: (message: string) => void;
  /** Directories watched whole: any entry changing, appearing or disappearing is a change. */
  directories?: readonly string[];
}

export function watchFiles(paths: readonly string[], onChange: () => void, opts: WatchOptions = {}): FileWatcher {
  const debounceMs = opts.debounceMs ?? 150;
  const byDir = new Map<string, Set<string>>();
  for (const p of paths) {
    const abs = resolve(p);
    const dir = dirname(abs);
    let names = byDir.get(dir);
    if (!names) byDir.set(dir, (names = new Set()));
    names.add(basename(abs));
  }
  const whole = new Set((opts.directories ?? []).map((d) => resolve(d)));
  for (const dir of whole) if (!byDir.has(dir)) byDir.set(dir, new Set());
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  const polled: string[] = [];
  const poll = (dir: string, names: Set<string>) => {
    for (const name of names) {
      const file = resolve(dir, name);
      watchFile(file, { interval: opts.pollMs ?? 1000, persistent: false }, schedule);
      polled.push(file);
    }
  };
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, filename) => {
        // No name (some platforms), one of ours, or a ConfigMap-style `..data` swap.
        const name = filename === null ? null : String(filename);
        if (name === null || names.has(name) || name.startsWith('..') || whole.has(dir)) schedule();
      });
      w.on('error', (err) => {
        opts.onError?.(`watching ${dir}: ${err.message}; polling instead`);
        w.close();
        poll(dir, names);
      });
      watchers.push(w);
    } catch (err) {
      opts.onError?.(`cannot watch ${dir}: ${(err as Error).message}; polling instead`);
      poll(dir, names);
    }
  }
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
      for (const f of polled) unwatchFile(f, schedule);
    },
  };
}
