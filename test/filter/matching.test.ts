import { describe, it, expect } from 'vitest';
import { startSergo, exchange, rateLimitRule } from './harness.ts';

// Threshold 0 makes a matching request visible: it is blocked (local reply), others pass.
const blocks = (resource: string, id = resource) => rateLimitRule(id, resource, 0, 1000);
function blocked(host: Parameters<typeof exchange>[0], method: string, path: string): boolean {
  return exchange(host, method, path).action === 'local-response';
}

describe('resource matching', () => {
  it('exact path and METHOD:path keys, query string stripped', () => {
    const { host } = startSergo({ version: 1, rules: [blocks('/foo'), blocks('POST:/bar')] });
    expect(blocked(host, 'GET', '/foo')).toBe(true);
    expect(blocked(host, 'DELETE', '/foo?x=1&y=2')).toBe(true);
    expect(blocked(host, 'GET', '/foo/')).toBe(true); // a trailing slash is ignored (test/filter/paths.test.ts)
    expect(blocked(host, 'GET', '/foobar')).toBe(false);
    expect(blocked(host, 'POST', '/bar')).toBe(true);
    expect(blocked(host, 'POST', '/bar?q')).toBe(true);
    expect(blocked(host, 'GET', '/bar')).toBe(false);
    expect(blocked(host, 'POST', '/bar/baz')).toBe(false);
  });

  it('{param} segments match exactly one non-empty segment; METHOD applies to templates', () => {
    const { host } = startSergo({ version: 1, rules: [blocks('GET:/foo/{id}'), blocks('/users/{u}/orders/{o}')] });
    expect(blocked(host, 'GET', '/foo/1')).toBe(true);
    expect(blocked(host, 'GET', '/foo/abc?q=1')).toBe(true);
    expect(blocked(host, 'POST', '/foo/1')).toBe(false);
    expect(blocked(host, 'GET', '/foo/1/2')).toBe(false);
    expect(blocked(host, 'GET', '/foo/')).toBe(false);
    expect(blocked(host, 'GET', '/foo')).toBe(false);
    expect(blocked(host, 'PUT', '/users/7/orders/9')).toBe(true);
    expect(blocked(host, 'PUT', '/users/7/orders')).toBe(false);
  });

  it('a trailing /** matches any remainder, including none', () => {
    const { host } = startSergo({ version: 1, rules: [blocks('/api/**'), blocks('GET:/v/{x}/**')] });
    for (const p of ['/api', '/api/', '/api/a', '/api/a/b/c?x']) expect(blocked(host, 'GET', p)).toBe(true);
    expect(blocked(host, 'GET', '/apix')).toBe(false);
    expect(blocked(host, 'GET', '/v/1')).toBe(true);
    expect(blocked(host, 'GET', '/v/1/2/3')).toBe(true);
    expect(blocked(host, 'POST', '/v/1/2')).toBe(false);
  });

  it('every matching resource applies: an exact key and a template on one request', () => {
    const rules = [rateLimitRule('exact', '/items/1', 5, 1000), rateLimitRule('tpl', '/items/{id}', 2, 1000)];
    const { host } = startSergo({ version: 1, options: { ruleIdHeader: 'x-sergo-rule' }, rules });
    expect(exchange(host, 'GET', '/items/1').action).toBe('continue');
    expect(exchange(host, 'GET', '/items/1').action).toBe('continue');
    const third = exchange(host, 'GET', '/items/1');
    expect(third.action).toBe('local-response');
    expect(third.localResponse!.additionalHeaders).toContainEqual(['x-sergo-rule', 'tpl']);
    expect(exchange(host, 'GET', '/items/2').action).toBe('local-response'); // the template is shared
  });

  it('requests that match nothing pass untouched, also without :path', () => {
    const { host } = startSergo({ version: 1, rules: [blocks('/only')] });
    expect(blocked(host, 'GET', '/other')).toBe(false);
    const s = host.stream();
    expect(s.requestHeaders([[':method', 'GET']]).action).toBe('continue');
    s.finish();
  });

  it('10,000 exact and 10,000 template resources still match precisely', () => {
    const rules = [];
    for (let i = 0; i < 10_000; i++) rules.push(blocks(`/e/${i}`), blocks(`GET:/t/${i}/{id}`));
    const { host, started } = startSergo({ version: 1, rules });
    expect(started).toBe(true);
    expect(blocked(host, 'GET', '/e/9999')).toBe(true);
    expect(blocked(host, 'GET', '/e/10000')).toBe(false);
    expect(blocked(host, 'GET', '/t/4321/x')).toBe(true);
    expect(blocked(host, 'POST', '/t/4321/x')).toBe(false);
    expect(blocked(host, 'GET', '/t/10001/x')).toBe(false);
  });
});
