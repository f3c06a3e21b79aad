// Other spellings of a limited path, through the bootstrap `sergo translate --format envoy` emits.
// The HCM normalises the path before any filter runs (normalize_path, merge_slashes, %2F unescaped),
// so for those spellings the filter and the upstream both see the canonical path. What Envoy forwards
// as it came (a trailing slash, `;params`, HEAD) the filter still counts against the limit: it matches
// the canonical form of the path itself (assembly/match/canonical.ts). No spelling gets past a limit.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchers, send, type RunningEnvoy } from './harness.ts';
import { Upstream } from './upstream.ts';
import { frameworkRoute, randomSpelling, seeded } from '../support/router.ts';

// Spellings Envoy itself turns into /a/b before the filter and the upstream see them.
const SPELLINGS = ['/a/b', '//a//b', '/a/./b', '/a/x/../b', '/a/%62', '/%61/b', '/a%2Fb', '/a/b?q=1',
  '/a/x/%2e%2e/b', '/a/%2E/b', '/a%2fb', 'http://svc/a/b'];
// Spellings Envoy forwards as they are, which frameworks route to /a/b: the filter counts them.
const FORWARDED = ['/a/b/', '/a/b;jsessionid=1', '/a;v=1/b', '/a/b%2F', '/a/b%2F%2F'];

const rules = (key: string, threshold: number) => `
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: RateLimitStrategy
metadata: { name: limit, labels: { app: demo } }
spec: { metricType: RequestAmount, limitMode: Local, threshold: ${threshold}, statDurationSeconds: 600 }
---
apiVersion: fault-tolerance.opensergo.io/v1alpha1
kind: FaultToleranceRule
metadata: { name: ab, labels: { app: demo } }
spec:
  targets: [{ targetResourceName: '${key}' }]
  strategies: [{ name: limit }]
`;

/** An upstream that answers 200 to any path (the shared one parses the path as a URL). */
const anyPath = () => Upstream.start((_req, res) => { res.end('ok'); return true; });

/** Sends one raw request line (bytes a client library would refuse to send) and returns the status. */
function rawStatus(url: string, requestLine: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.on('connect', () => socket.write(`${requestLine}\r\nhost: svc\r\nconnection: close\r\n\r\n`, 'latin1'));
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

const MODULE = process.env.SERGO_TEST_WASM; // another build, to show what it lets through
const found = await launchers('test/envoy/paths.test.ts');

for (const launcher of found) {
  describe(`path spellings in Envoy (${launcher.name})`, () => {
    let upstream: Upstream;
    let envoy: RunningEnvoy;

    beforeAll(async () => {
      upstream = await Upstream.start();
      envoy = await launcher.start({ rules: rules('GET:/a/b', SPELLINGS.length), upstreamPort: upstream.port, module: MODULE });
    });
    afterAll(async () => {
      await envoy?.stop();
      await upstream?.close();
    });

    it('every spelling reaches the upstream as /a/b and is counted against the limit on /a/b', async () => {
      for (const path of SPELLINGS) expect((await send(envoy.url, path)).status, path).toBe(200);
      expect(upstream.paths().map((p) => p.split('?')[0])).toEqual(SPELLINGS.map(() => '/a/b'));
      // The limit (one per spelling) is used up: every spelling is now refused, none reaches the upstream.
      for (const path of SPELLINGS) expect((await send(envoy.url, path)).status, path).toBe(429);
      for (const path of FORWARDED) expect((await send(envoy.url, path)).status, path).toBe(429);
      expect((await send(envoy.url, '/a/b', { method: 'HEAD' })).status).toBe(429);
      expect(upstream.seen).toHaveLength(SPELLINGS.length);
    });
  });

  describe(`spellings Envoy forwards unchanged, in Envoy (${launcher.name})`, () => {
    let upstream: Upstream;
    let envoy: RunningEnvoy;

    beforeAll(async () => {
      upstream = await anyPath();
      envoy = await launcher.start({ rules: rules('GET:/a/b', FORWARDED.length + 1), upstreamPort: upstream.port, module: MODULE });
    });
    afterAll(async () => {
      await envoy?.stop();
      await upstream?.close();
    });

    it('a trailing slash, path parameters and HEAD are counted against GET:/a/b', async () => {
      for (const path of FORWARDED) expect((await send(envoy.url, path)).status, path).toBe(200);
      expect((await send(envoy.url, '/a/b', { method: 'HEAD' })).status).toBe(200);
      for (const seen of upstream.paths()) expect(frameworkRoute(seen), seen).toBe('/a/b');
      // The limit is used up by those: /a/b itself is refused now.
      expect((await send(envoy.url, '/a/b')).status).toBe(429);
      expect(upstream.seen).toHaveLength(FORWARDED.length + 1);
    });

    it('a NUL byte, a backslash or a 64 KiB path is refused or normalised, never forwarded unlimited', async () => {
      const statuses = [
        await rawStatus(envoy.url, 'GET /a/b\0 HTTP/1.1'),
        await rawStatus(envoy.url, 'GET /a\\b HTTP/1.1'),
        await rawStatus(envoy.url, 'GET /a/b#frag HTTP/1.1'),
        await rawStatus(envoy.url, `GET /a${'/.'.repeat(32 * 1024)}/b HTTP/1.1`),
      ];
      for (const status of statuses) expect([400, 414, 431, 429]).toContain(status);
      expect(upstream.seen).toHaveLength(FORWARDED.length + 1);
    });
  });

  describe(`fuzz: random spellings in Envoy (${launcher.name})`, () => {
    let upstream: Upstream;
    let envoy: RunningEnvoy;

    beforeAll(async () => {
      upstream = await anyPath();
      envoy = await launcher.start({ rules: rules('GET:/api/items', 1), upstreamPort: upstream.port, module: MODULE });
    });
    afterAll(async () => {
      await envoy?.stop();
      await upstream?.close();
    });

    it('no spelling reaches the upstream as /api/items once its limit is used up', async () => {
      expect((await send(envoy.url, '/api/items')).status).toBe(200);
      const next = seeded(10012);
      let refused = 0;
      for (let i = 0; i < 300; i++) {
        const path = randomSpelling(next);
        const reply = await send(envoy.url, path).catch(() => undefined); // a client library may refuse a path
        if (reply?.status === 429) refused++;
      }
      const leaked = upstream.paths().slice(1).filter((p) => frameworkRoute(p) === '/api/items');
      expect(leaked).toEqual([]);
      expect(refused).toBeGreaterThan(30); // the generator does reach the limited route
    }, 120_000);
  });
}
