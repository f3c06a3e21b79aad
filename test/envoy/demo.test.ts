// `npm start -- --envoy`: the demo (scripts/demo.js, as npm runs it) through real Envoy, without a
// terminal; and what it says when Envoy is not there.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/paths.ts';
import { launchers } from './harness.ts';

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const p = spawn(process.execPath, ['scripts/demo.js', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env });
  const out = { stdout: '', stderr: '', code: null as number | null };
  p.stdout!.setEncoding('utf8').on('data', (c: string) => (out.stdout += c));
  p.stderr!.setEncoding('utf8').on('data', (c: string) => (out.stderr += c));
  const done = new Promise<typeof out>((resolve) => p.on('close', (code) => resolve({ ...out, code })));
  return done;
}

const hasProcessLauncher = (await launchers('test/envoy/demo.test.ts')).some((l) => l.name === 'process');

describe('npm start -- --envoy', () => {
  it.skipIf(!hasProcessLauncher)('runs the demo through Envoy for --duration 4: the same rules enforced, counters from Envoy\'s /stats', async () => {
    const out = await run(['--duration', '4', '--envoy']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).not.toContain('handles still open');
    const text = out.stdout;
    expect(text).not.toContain('\x1b[');
    expect(text).toMatch(/sergo demo: http:\/\/127\.0\.0\.1:\d+ \(Envoy, 2 workers, bootstrap from sergo translate --format envoy, rules examples\/rules\.yaml\)/);
    expect(text).toMatch(/metrics: http:\/\/127\.0\.0\.1:\d+\/stats\/prometheus/);
    const summary = text.slice(text.indexOf('sergo demo summary'));
    const hello = /hello-rule\/hello-rate-limit\s+RateLimit\s+GET:\/api\/hello\s+(\d+)\s+(\d+)/.exec(summary);
    expect(hello, summary).not.toBeNull();
    expect(Number(hello![1])).toBeGreaterThan(0);
    expect(Number(hello![2])).toBeGreaterThan(0); // 3 clients every ~20 ms: more than 20/s
    const slow = /slow-rule\/slow-concurrency\s+ConcurrencyLimit\s+\/api\/slow\s+(\d+)\s+(\d+)/.exec(summary);
    expect(Number(slow![1])).toBeGreaterThan(0);
    expect(Number(slow![2])).toBeGreaterThan(0); // 8 clients, 4 slots across both workers
    const greet = /greet-rule\/greet-pacing\s+Throttling\s+\/api\/hello\/\{name\}\s+(\d+)\s+(\d+)\s+(\d+)/.exec(summary);
    expect(Number(greet![3])).toBeGreaterThan(0); // queued: paced by Envoy's timers
    // The filter's blocks as Envoy counted them are the clients' 429s and 503s.
    const handled = /Envoy handled (\d+) requests, (\d+) answered by the filter's fallbacks/.exec(summary);
    expect(handled, summary).not.toBeNull();
    const blocked = [...summary.matchAll(/^ {2}\S+\/\S+\s+\w+\s+\S+\s+\d+\s+(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(Number(handled![2])).toBe(blocked);
    expect(Number(handled![1])).toBeGreaterThan(Number(handled![2]));
  }, 90_000);

  it('without Envoy: says so with the install command and exits non-zero, nothing started', async () => {
    const out = await run(['--duration', '1', '--envoy'], { ...process.env, SERGO_ENVOY: '/nonexistent/envoy' });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('Envoy is not installed (SERGO_ENVOY=/nonexistent/envoy is not an executable file)');
    expect(out.stderr).toContain('Install it with scripts/envoy.sh');
    expect(out.stdout).toBe('');
  });
});
