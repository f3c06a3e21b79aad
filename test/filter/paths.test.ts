// Other spellings of a limited path, straight to the filter (no proxy in front normalises them): the
// filter matches the canonical form (assembly/match/canonical.ts), so none gets past the limit.
import { describe, it, expect } from 'vitest';
import { startSergo, exchange, rateLimitRule } from './harness.ts';
import { frameworkRoute, randomSpelling, seeded } from '../support/router.ts';

// Threshold 0: a matching request is refused, so "matched" is visible on every request.
const blocks = (resource: string) => rateLimitRule(resource, resource, 0, 1000);
function limited(host: ReturnType<typeof startSergo>['host'], method: string, path: string): boolean {
  return exchange(host, method, path).action === 'local-response';
}

const LONG_DOTS = '/api' + '/.'.repeat(32 * 1024) + '/items';
const LONG_SLASHES = '/'.repeat(64 * 1024) + 'api/items';

// Each is the same resource as /api/items for frameworks, and must be limited as it.
const SAME = [
  '/api/items', '/api/items/', '//api//items', '/api/%69tems', '/api/%69%74%65%6d%73', '/api/items%2F', '/api/items%2f',
  '/api%2Fitems', '/api/./items', '/api/x/../items', '/api/x/%2e%2e/items', '/api/x/%2E%2E/items', '/api/%2e/items',
  '/api/items;jsessionid=1', '/api;v=2/items', '/api/items;', '/api\\items', '/api%5Citems', '/api/items\\',
  '/../api/items', '/x/../../api/items', '/api/items/.', '/api/items/x/..', '/api/items?x=1', '/api/items#top',
  '/api/items/?a=/b', '%2Fapi/items', LONG_DOTS, LONG_SLASHES,
];
// Other resources: case matters (RFC 3986), a double escape is decoded once, other escapes stay.
const OTHER = ['/api/Items', '/API/items', '/api/items%252F', '/api/itemsx', '/api/item', '/api/items%3B', '/api/items%00',
  '/api/items\0', '/api/items/x', '/api', '/items', 'api/items', '/api/it%2Fems'];

describe('path spellings straight to the filter', () => {
  const { host } = startSergo({ version: 1, rules: [blocks('GET:/api/items')] });

  it.each(SAME.map((p) => [p.length > 200 ? `${p.slice(0, 40)}… (${p.length} bytes)` : p, p]))('%s is limited as /api/items', (_, path) => {
    expect(limited(host, 'GET', path)).toBe(true);
  });

  it.each(OTHER)('%s is another resource', (path) => {
    expect(limited(host, 'GET', path)).toBe(false);
  });

  it('GET: keys apply to HEAD as well, not to other methods', () => {
    expect(limited(host, 'HEAD', '/api/items')).toBe(true);
    expect(limited(host, 'HEAD', '//api/items/')).toBe(true);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'head', 'GETX']) expect(limited(host, method, '/api/items'), method).toBe(false);
  });

  it('HEAD: keys do not apply to GET', () => {
    const { host } = startSergo({ version: 1, rules: [blocks('HEAD:/h')] });
    expect(limited(host, 'HEAD', '/h')).toBe(true);
    expect(limited(host, 'GET', '/h')).toBe(false);
  });

  it('keys are canonical too: a key with a trailing slash or an escape means the same resource', () => {
    const { host } = startSergo({ version: 1, rules: [blocks('/k/'), blocks('/e/%61'), blocks('/t/{id}/')] });
    for (const p of ['/k', '/k/', '//k']) expect(limited(host, 'GET', p), p).toBe(true);
    for (const p of ['/e/a', '/e/%61']) expect(limited(host, 'GET', p), p).toBe(true);
    for (const p of ['/t/1', '/t//1/', '/t/%31;x']) expect(limited(host, 'GET', p), p).toBe(true);
    expect(limited(host, 'GET', '/t/')).toBe(false);
  });

  it('templates match the canonical path', () => {
    const { host } = startSergo({ version: 1, rules: [blocks('/u/{id}/orders'), blocks('/files/**')] });
    for (const p of ['/u/7/orders', '/u//7//orders/', '/u/7;x/orders', '/u/8/x/../orders', '/u/%37/orders']) expect(limited(host, 'GET', p), p).toBe(true);
    for (const p of ['/files', '/files/', '/x/../files/a', '/%66iles/a/b']) expect(limited(host, 'GET', p), p).toBe(true);
    expect(limited(host, 'GET', '/u/orders')).toBe(false);
  });

  it('fuzz: no spelling a framework routes to /api/items escapes the limit', () => {
    const next = seeded(12);
    let routed = 0;
    for (let i = 0; i < 5000; i++) {
      const path = randomSpelling(next);
      if (frameworkRoute(path) !== '/api/items') continue;
      routed++;
      expect(limited(host, 'GET', path), path).toBe(true);
    }
    expect(routed).toBeGreaterThan(500); // the generator does reach the limited route
  });
});
