// The real CLI (`node bin/sergo.js serve …`) and the demo (`npm start`'s script) as child processes,
// without a terminal.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runSergo } from '../support/cli.ts';
import { repoRoot } from '../support/paths.ts';
import { docs, request, rule, startUpstream, strategy, waitFor, workspace, type TestUpstream, type Workspace, closeAfterEach } from './helpers.ts';

let ws: Workspace | undefined;
let up: TestUpstream | undefined;
let child: ChildProcess | undefined;
closeAfterEach();
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});


function run(args: string[]) {
  const p = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '', code: null as number | null, exited: false };
  p.stdout!.setEncoding('utf8').on('data', (c: string) => (out.stdout += c));
  p.stderr!.setEncoding('utf8').on('data', (c: string) => (out.stderr += c));
  const done = new Promise<void>((resolve) =>
    p.on('close', (code) => {
      out.code = code;
      out.exited = true;
      resolve();
    }),
  );
  return { p, out, done };
}

describe('sergo serve (CLI)', () => {
  it('serves until SIGTERM, then drains and exits 0', async () => {
    ws = workspace();
    up = await startUpstream();
    const rules = ws.file(
      'rules.yaml',
      docs(strategy('RateLimitStrategy', 'rl', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 60'), rule('r', '/ok', ['rl'])),
    );
    const { p, out, done } = run(['bin/sergo.js', 'serve', '--rules', rules, '--upstream', up.url, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--vms', '3']);
    child = p;
    await waitFor('the listening line', () => /admin on/.test(out.stderr) || out.exited, 30_000);
    const m = /listening on 127\.0\.0\.1:(\d+) → .* \(3 VMs\); admin on 127\.0\.0\.1:(\d+); 1 rule for app app from /.exec(out.stderr);
    expect(m, out.stderr).not.toBeNull();
    const base = `http://127.0.0.1:${m![1]}`;
    expect((await request(`http://127.0.0.1:${m![2]}`, '/ready')).status).toBe(200);
    expect((await request(base, '/ok')).status).toBe(200);
    expect((await request(base, '/ok')).status).toBe(429);
    p.kill('SIGTERM');
    await done;
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('SIGTERM received, draining');
    expect(out.stderr).toContain('HTTP/1.1 only: gRPC needs Envoy');
    expect(out.stderr).toMatch(/stopped\n$/);
  });

  it('invalid rules or arguments: exit 2 with the diagnostics, nothing started', async () => {
    ws = workspace();
    const rules = ws.file('bad.yaml', docs(strategy('RateLimitStrategy', 'rl', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: -1\nstatDurationSeconds: 60'), rule('r', '/ok', ['rl'])));
    const bad = await runSergo(['serve', '--rules', rules, '--upstream', 'http://127.0.0.1:1', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yaml:\d+:\d+: RateLimitStrategy\/rl: spec\.threshold: /);
    expect(bad.stderr).toContain('sergo serve: not started');
    const url = await runSergo(['serve', '--rules', rules, '--upstream', 'ftp://x']);
    expect(url.code).toBe(2);
    expect(url.stderr).toContain('only http:// and https:// are supported');
    const vms = await runSergo(['serve', '--rules', rules, '--upstream', 'http://x', '--vms', '0']);
    expect(vms.code).toBe(2);
  });
});

describe('npm start (scripts/demo.js) without a terminal', () => {
  it('runs the demo for --duration 3, prints plain lines and a summary, exits 0', async () => {
    const { out, done, p } = run(['scripts/demo.js', '--duration', '3']);
    child = p;
    await done;
    expect(out.code, out.stderr).toBe(0);
    const text = out.stdout;
    expect(out.stderr).not.toContain('handles still open'); // everything it started was closed
    expect(text).not.toContain('\x1b['); // no terminal escapes in a pipe
    expect(text).toMatch(/sergo demo summary \(\d+\.\d s\)/);
    for (const name of ['hello-rule/hello-rate-limit', 'greet-rule/greet-pacing', 'slow-rule/slow-concurrency', 'flaky-rule/flaky-breaker']) {
      expect(text).toContain(name);
    }
    const summary = text.slice(text.indexOf('sergo demo summary'));
    const hello = /hello-rule\/hello-rate-limit\s+RateLimit\s+GET:\/api\/hello\s+(\d+)\s+(\d+)/.exec(summary);
    expect(hello).not.toBeNull();
    expect(Number(hello![1])).toBeGreaterThan(0); // passed
    expect(Number(hello![2])).toBeGreaterThan(0); // blocked: the clients send more than 20/s
    const slow = /slow-rule\/slow-concurrency\s+ConcurrencyLimit\s+\/api\/slow\s+(\d+)\s+(\d+)/.exec(summary);
    expect(Number(slow![1])).toBeGreaterThan(0);
    expect(Number(slow![2])).toBeGreaterThan(0); // 8 clients, 4 slots
    expect(summary).toMatch(/GET \/api\/flaky\s+\d+/);
    expect(summary).toContain('breaker transitions:');
  }, 90_000);
});
