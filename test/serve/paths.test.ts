// sergo serve forwards the path as the emitted Envoy bootstrap does (src/serve/path.ts): normalised
// (escapes of unreserved characters decoded, %2F and backslashes as /, slashes merged, dot segments
// resolved) and an absolute-form target turned into a path plus :authority. The filter counts every
// spelling against the limit of the path it means.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { docs, rule, serveFor, startUpstream, strategy, workspace, closeAfterEach } from './helpers.ts';
import { requestTarget } from '../../src/serve/path.ts';
import { frameworkRoute, randomSpelling, seeded } from '../support/router.ts';

closeAfterEach();

/** One raw request line on its own connection (client libraries rewrite or refuse these paths). */
function raw(base: string, target: string, method = 'GET'): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.on('connect', () => socket.write(`${method} ${target} HTTP/1.1\r\nhost: svc\r\nconnection: close\r\n\r\n`, 'latin1'));
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

const NORMALISED: [string, string][] = [
  ['/a/b', '/a/b'], ['//a//b', '/a/b'], ['/a/./b', '/a/b'], ['/a/x/../b', '/a/b'], ['/a/%62', '/a/b'], ['/%61/b', '/a/b'],
  ['/a%2Fb', '/a/b'], ['/a%2fb', '/a/b'], ['/a\\b', '/a/b'], ['/a%5Cb', '/a/b'], ['/a/x/%2e%2e/b', '/a/b'], ['/../a/b', '/a/b'],
  ['/a/b?q=/../x', '/a/b?q=/../x'], ['/a/b/', '/a/b/'], ['/a/b;jsessionid=1', '/a/b;jsessionid=1'], ['/a/b%252F', '/a/b%252F'],
  ['/a/%7e%41', '/a/~A'], ['/a/%3f', '/a/%3f'], ['/a/b/.', '/a/b/'], ['/', '/'],
];

describe('sergo serve: request targets', () => {
  it.each(NORMALISED)('%s is forwarded as %s', (target, forwarded) => {
    expect(requestTarget(target)).toEqual({ path: forwarded });
  });

  it('an absolute-form target becomes a path and :authority; anything else is refused', () => {
    expect(requestTarget('http://shop.example:8080/a/./b?x=1')).toEqual({ path: '/a/b?x=1', authority: 'shop.example:8080' });
    expect(requestTarget('http://shop')).toEqual({ path: '/', authority: 'shop' });
    expect(requestTarget('a/b')).toBeUndefined();
    expect(requestTarget('*')).toBeUndefined();
  });

  it('every spelling reaches the upstream normalised and counts against GET:/a/b; absolute form gives the host', async () => {
    const ws = workspace();
    const up = await startUpstream();
    const spellings = NORMALISED.filter(([, f]) => frameworkRoute(f) === '/a/b').map(([t]) => t);
    const rules = docs(
      strategy('RateLimitStrategy', 'rl', `metricType: RequestAmount\nlimitMode: Local\nthreshold: ${spellings.length + 2}\nstatDurationSeconds: 600`),
      rule('ab', 'GET:/a/b', ['rl']),
    );
    const served = await serveFor({ rules: [ws.file('rules.yaml', rules)], upstream: up.url });
    for (const t of spellings) expect(await raw(served.base, t), t).toBe(200);
    expect(await raw(served.base, 'http://shop.example/a/b')).toBe(200);
    expect(await raw(served.base, '/a/b', 'HEAD')).toBe(200);
    expect(up.hits.at(-2)!.url).toBe('/a/b');
    expect(up.hits.at(-2)!.headers.host).toBe('shop.example');
    for (const hit of up.hits) expect(frameworkRoute(hit.url), hit.url).toBe('/a/b');
    for (const hit of up.hits) expect(hit.url.split('?')[0]).not.toMatch(/\/\/|\/\.\.?(\/|$)|%2f|\\/i);
    // The limit is used up: every spelling is refused now, none reaches the upstream.
    for (const t of [...spellings, 'http://x/a/b']) expect(await raw(served.base, t), t).toBe(429);
    expect(up.hits).toHaveLength(spellings.length + 2);
    expect(await raw(served.base, 'a/b')).toBe(400);
  });

  it('fuzz: no spelling reaches the upstream as /api/items once its limit is used up', async () => {
    const ws = workspace();
    const up = await startUpstream();
    const rules = docs(
      strategy('RateLimitStrategy', 'rl', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 600'),
      rule('items', 'GET:/api/items', ['rl']),
    );
    const served = await serveFor({ rules: [ws.file('rules.yaml', rules)], upstream: up.url });
    expect(await raw(served.base, '/api/items')).toBe(200);
    const next = seeded(1012);
    let refused = 0;
    for (let i = 0; i < 300; i++) if ((await raw(served.base, randomSpelling(next))) === 429) refused++;
    expect(up.hits.slice(1).map((h) => h.url).filter((u) => frameworkRoute(u) === '/api/items')).toEqual([]);
    expect(refused).toBeGreaterThan(30);
  }, 60_000);
});
