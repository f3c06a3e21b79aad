// The real thing: the official Envoy image running the bootstrap `sergo translate --format envoy`
// generates, with build/sergo.wasm, in front of an upstream on the test machine. Needs a container
// engine (Docker or Podman). Without one the suite is skipped with a message saying so; these
// development machines have none, so this test runs only where an engine is available.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { repoRoot } from '../support/paths.ts';

const ENVOY_IMAGE = process.env.SERGO_ENVOY_IMAGE ?? 'envoyproxy/envoy:v1.34-latest';

async function containerEngine(): Promise<string | undefined> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await Promise.race([
      getContainerRuntimeClient(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out after 10 s')), 10_000)),
    ]);
    return client.info.containerRuntime.host;
  } catch (err) {
    console.warn(`SKIPPED test/envoy: no container engine reachable (${(err as Error).message.split('\n')[0]}). ` +
      `These tests run Envoy (${ENVOY_IMAGE}) with build/sergo.wasm and need Docker or Podman.`);
    return undefined;
  }
}

const engine = await containerEngine();

describe.skipIf(!engine)(`Envoy (${ENVOY_IMAGE}) running build/sergo.wasm`, () => {
  let upstream: Server;
  let baseUrl = '';
  let adminUrl = '';
  let stop: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    const { GenericContainer, TestContainers, Wait } = await import('testcontainers');
    upstream = createServer((req, res) => {
      const status = req.url?.startsWith('/fail') ? 500 : 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`upstream ${req.url}`);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '0.0.0.0', resolve));
    const upstreamPort = (upstream.address() as { port: number }).port;
    await TestContainers.exposeHostPorts(upstreamPort);

    const dir = mkdtempSync(join(tmpdir(), 'sergo-envoy-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    execFileSync(process.execPath, [join(repoRoot, 'bin', 'sergo.js'), 'translate', join(dir, 'rules.yaml'), '--format', 'envoy',
      '--upstream', `http://host.testcontainers.internal:${upstreamPort}`, '--admin', '0.0.0.0:9901', '-o', join(dir, 'bootstrap.yaml')]);
    copyFileSync(join(repoRoot, 'build', 'sergo.wasm'), join(dir, 'sergo.wasm'));

    const container = await new GenericContainer(ENVOY_IMAGE)
      .withCopyFilesToContainer([
        { source: join(dir, 'bootstrap.yaml'), target: '/etc/envoy/bootstrap.yaml' },
        { source: join(dir, 'sergo.wasm'), target: '/etc/envoy/sergo.wasm' },
      ])
      .withCommand(['envoy', '-c', '/etc/envoy/bootstrap.yaml', '--concurrency', '2'])
      .withExposedPorts(10000, 9901)
      .withWaitStrategy(Wait.forHttp('/ready', 9901).forStatusCode(200))
      .withStartupTimeout(120_000)
      .start();
    stop = () => container.stop();
    baseUrl = `http://${container.getHost()}:${container.getMappedPort(10000)}`;
    adminUrl = `http://${container.getHost()}:${container.getMappedPort(9901)}`;
  }, 180_000);

  afterAll(async () => {
    await stop?.();
    upstream?.close();
  });

  it('enforces the rate limit across Envoy workers with the fallback response', async () => {
    const statuses: number[] = [];
    let blockedBody = '';
    let blockedHeader: string | null = null;
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${baseUrl}/limited`);
      statuses.push(res.status);
      if (res.status === 429) { blockedBody = await res.text(); blockedHeader = res.headers.get('x-sergo'); }
      else await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 200).length).toBe(5);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(blockedBody).toBe('slow down');
    expect(blockedHeader).toBe('limited');
  });

  it('opens the breaker on upstream errors', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(`${baseUrl}/fail/x`)).status);
    expect(statuses.slice(0, 4)).toEqual([500, 500, 500, 500]);
    expect(statuses.at(-1)).toBe(429);
  });

  it('exposes the filter metrics in Envoy\'s Prometheus output with labels', async () => {
    const text = await (await fetch(`${adminUrl}/stats/prometheus`)).text();
    expect(text).toMatch(/sergo_requests_passed\{[^}]*sergo_strategy="RateLimit"[^}]*\} 5/);
    expect(text).toMatch(/sergo_requests_blocked\{[^}]*sergo_strategy="CircuitBreaker"/);
  });
});

const RULES = `
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: RateLimitStrategy
metadata: { name: five-per-minute, labels: { app: demo } }
spec: { metricType: RequestAmount, limitMode: Local, threshold: 5, statDurationSeconds: 60 }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: HttpRequestFallbackAction
metadata: { name: slow-down, labels: { app: demo } }
spec:
  behavior: ReturnProvidedResponse
  behaviorDesc:
    responseStatusCode: 429
    responseContentBody: slow down
    responseAdditionalHeaders: [{ key: x-sergo, value: limited }]
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: CircuitBreakerStrategy
metadata: { name: errors, labels: { app: demo } }
spec: { strategy: ErrorRequestRatio, triggerRatio: '50%', statDuration: '60s', recoveryTimeout: '60s', minRequestAmount: 4 }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: limited, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: 'GET:/limited' }]
  strategies: [{ name: five-per-minute }]
  fallbackAction: slow-down
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: failing, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '/fail/**' }]
  strategies: [{ name: errors }]
`;
