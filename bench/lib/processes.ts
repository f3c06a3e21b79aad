// Child processes of the benchmark (servers in their own processes, so that the load generator and
// the servers do not share an event loop) and their CPU time from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './sergo.ts';

const CHILD = join(ROOT, 'bench', 'http', 'child.ts');

export interface Child {
  name: string;
  proc: ChildProcess;
  port: number;
  adminPort?: number;
}

/** `node --import tsx bench/http/child.ts <args>`; resolves when it prints its port. */
export async function spawnChild(name: string, args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`${name}: the child exited (${code}) before listening`)));
    });
    const { port, adminPort } = JSON.parse(first) as { port: number; adminPort?: number };
    return { name, proc, port, adminPort };
  } finally {
    lines.close();
  }
}

/** Closes its stdin (it then shuts down); SIGKILL after 5 s. */
export async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => c.proc.once('exit', () => resolve()));
  c.proc.stdin!.end();
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS = 100;

/** User + system CPU time of a process in seconds, from /proc (Linux, 10 ms resolution); NaN elsewhere. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14 and 15 of stat)
  } catch {
    return NaN;
  }
}
