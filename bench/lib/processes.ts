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

/** Resident memory of a process in bytes (VmRSS in /proc/<pid>/status; NaN where there is none). */
export function residentBytes(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? NaN : Number(m[1]) * 1024;
  } catch {
    return NaN;
  }
}

/** Busy and total jiffies of each CPU since boot (/proc/stat `cpuN` lines; empty elsewhere). */
export function cpuJiffies(): { busy: number; total: number }[] {
  try {
    return readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).map((l) => {
      const v = l.split(/\s+/).slice(1).map(Number);
      const idle = v[3]! + v[4]!; // idle + iowait
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // up to steal; guest time is inside user
      return { busy: total - idle, total };
    });
  } catch {
    return [];
  }
}

/** Share of each CPU that was busy between two cpuJiffies() readings (0..1), with anything else running. */
export function cpuBusy(from: ReturnType<typeof cpuJiffies>, to: ReturnType<typeof cpuJiffies>): number[] {
  return to.map((t, i) => {
    const f = from[i];
    return f === undefined || t.total === f.total ? NaN : (t.busy - f.busy) / (t.total - f.total);
  });
}
