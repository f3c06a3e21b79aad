// src/envoy: the process the tests, the benchmark and `npm start -- --envoy` share — started from the
// emitted bootstrap, pinned when asked, refused bootstraps reported with Envoy's own words, stopped.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { launchEnvoy, type LaunchedEnvoy } from '../../src/envoy/index.ts';
import { envoyBinary, launchers, send } from './harness.ts';
import { Upstream } from './upstream.ts';

const RULES = `
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: RateLimitStrategy
metadata: { name: one-per-minute, labels: { app: demo } }
spec: { metricType: RequestAmount, limitMode: Local, threshold: 1, statDurationSeconds: 60 }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: once, labels: { app: demo } }
spec: { targets: [{ targetResourceName: '/once' }], strategies: [{ name: one-per-minute }] }
`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const hasProcessLauncher = (await launchers('test/envoy/process.test.ts')).some((l) => l.name === 'process');

describe.skipIf(!hasProcessLauncher)('src/envoy: Envoy as a child process', () => {
  let upstream: Upstream | undefined;
  let envoy: LaunchedEnvoy | undefined;
  afterEach(async () => {
    await envoy?.stop();
    await upstream?.close();
    envoy = undefined;
    upstream = undefined;
  });

  it('runs the emitted bootstrap with hot restart off, enforces it, and stop() ends the process', async () => {
    upstream = await Upstream.start();
    envoy = await launchEnvoy({ rules: { text: RULES }, upstream: `http://127.0.0.1:${upstream.port}`, concurrency: 1 });
    const pid = envoy.envoy.pid!;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv[0]).toBe(envoyBinary().path);
    expect(argv).toContain('--disable-hot-restart');
    expect(envoy.bootstrap).toContain('envoy.filters.http.wasm');
    expect([(await send(envoy.url, '/once')).status, (await send(envoy.url, '/once')).status]).toEqual([200, 429]);
    await envoy.stop();
    expect(envoy.envoy.exitCode).toBe(0); // SIGTERM: Envoy shuts down cleanly
    expect(alive(pid)).toBe(false);
  });

  it('pins Envoy and all its threads to the CPUs asked for (taskset), and the pid is Envoy\'s', async () => {
    upstream = await Upstream.start();
    envoy = await launchEnvoy({ rules: { text: RULES }, upstream: `http://127.0.0.1:${upstream.port}`, concurrency: 2, cpus: '0' });
    const pid = envoy.envoy.pid!;
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('envoy');
    const tasks = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(/^Cpus_allowed_list:\s+(\S+)$/m.exec(tasks)?.[1]).toBe('0');
    expect(Number(/^Threads:\s+(\d+)$/m.exec(tasks)?.[1])).toBeGreaterThanOrEqual(3); // main + 2 workers
  });

  it('a bootstrap Envoy refuses: start() rejects with Envoy\'s own message (the tail of its log)', async () => {
    upstream = await Upstream.start();
    const outcome = await launchEnvoy({
      rules: { text: RULES }, upstream: `http://127.0.0.1:${upstream.port}`, concurrency: 1,
      rewrite: (b) => b.replace('http.router.v3.Router', 'http.router.v3.NoSuchFilter'),
    }).catch((err: Error) => err);
    if (!(outcome instanceof Error)) envoy = outcome; // stopped by afterEach
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/^envoy exited with code 1 before it was ready:\n[\s\S]*v3\.NoSuchFilter/);
  });
});
