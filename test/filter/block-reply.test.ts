// What a block reply tells the client (issue 12): the default body names only the strategy kind,
// never the namespace, app or rule; the rule id is in the metrics, and in a response header only
// when the configuration asks for one (options.ruleIdHeader).
import { describe, it, expect } from 'vitest';
import { startSergo, exchange, rateLimitRule, text, metricName, flushMetrics } from './harness.ts';

const ID = 'prod/shop/slow-rule/RateLimitStrategy/slow@GET:/z';

describe('block replies', () => {
  it('the default body names the strategy kind only; no header names the rule', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule(ID, 'GET:/z', 0, 1000)] });
    const r = exchange(host, 'GET', '/z').localResponse!;
    expect(text(r.body)).toBe('Blocked by sergo: RateLimitStrategy\n');
    for (const part of ['prod', 'shop', 'slow-rule']) expect(text(r.body)).not.toContain(part);
    expect(r.additionalHeaders).toEqual([['content-type', 'text/plain; charset=utf-8']]);
  });

  it('the rule id is a metric tag of the refusing rule', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule(ID, 'GET:/z', 0, 1000)] });
    exchange(host, 'GET', '/z');
    flushMetrics(host);
    expect(host.metric(metricName(ID, 'GET:/z', 'RateLimit', 'requests_blocked'))).toBe(1n);
  });

  it('options.ruleIdHeader adds the rule id to default and custom fallbacks alike', () => {
    const custom = { status: 503, body: 'busy', headers: [['retry-after', '1']] };
    const { host, started } = startSergo({
      version: 1, options: { ruleIdHeader: 'X-Sergo-Rule' },
      rules: [rateLimitRule(ID, 'GET:/z', 0, 1000), rateLimitRule('custom', '/c', 0, 1000, custom)],
    });
    expect(started).toBe(true);
    const d = exchange(host, 'GET', '/z').localResponse!;
    expect(text(d.body)).toBe('Blocked by sergo: RateLimitStrategy\n');
    expect(d.additionalHeaders).toEqual([['content-type', 'text/plain; charset=utf-8'], ['x-sergo-rule', ID]]);
    const c = exchange(host, 'GET', '/c').localResponse!;
    expect(c.additionalHeaders).toEqual([['retry-after', '1'], ['x-sergo-rule', 'custom']]);
  });

  it('options.ruleIdHeader must be a header name', () => {
    for (const bad of ['', 'x sergo', 7, 'x:y']) {
      const { started } = startSergo({ version: 1, options: { ruleIdHeader: bad }, rules: [rateLimitRule('a', '/a', 0, 1000)] });
      expect(started, String(bad)).toBe(false);
    }
  });
});
