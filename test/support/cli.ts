// Runs the real CLI (`node bin/sergo.js …`) from the repository root, as a user would.
import { spawn } from 'node:child_process';
import { repoRoot } from './paths.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `input`: written to the CLI's standard input (which is otherwise empty). `cwd`: default the repository. `env`: added to the environment. */
export function runSergo(args: string[], opts: { nodeArgs?: string[]; command?: string[]; input?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const [command, ...prefix] = opts.command ?? [process.execPath, ...(opts.nodeArgs ?? []), 'bin/sergo.js'];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command!, [...prefix, ...args], { cwd: opts.cwd ?? repoRoot, env: { ...process.env, ...opts.env }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Lines of stderr (without the trailing empty one). */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
