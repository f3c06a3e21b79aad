// The decoder's fast paths (assembly/config): strings scanned eight bytes at a time, ids and
// resources checked on the bytes, one pass over each object's keys, a tape that grows when the
// configuration is denser than its estimate. Each case is checked against what the text says.
import { describe, it, expect } from 'vitest';
import { startSergo, exchange, ruleBytes } from './harness.ts';
import { ProxyWasmHost } from '../../src/host/index.ts';

const RL = '"strategy":{"kind":"RateLimit","threshold":1,"windowMs":1000}';
const PREFIX = '{"version":1,"rules":[{"id":"';
const withId = (idJson: string) => `${PREFIX}${idJson}","resource":"/a",${RL}}]}`;
const withResource = (resourceJson: string) => `{"version":1,"rules":[{"id":"a","resource":"${resourceJson}",${RL}}]}`;
const critical = (host: ProxyWasmHost) => host.logs.filter((l) => l.level === 'critical').map((l) => l.message);
const REJECTED = 'sergo: configuration rejected: ';

describe('decoding strings', () => {
  // Offsets 0..17 put the byte at every place of an eight-byte word, and past the first two.
  const offsets = Array.from({ length: 18 }, (_, k) => k);

  it.each(offsets)('a control character at offset %i of a string is refused at its byte', (k) => {
    const { started, host } = startSergo(withId('x'.repeat(k) + '\u0001' + 'y'.repeat(9)));
    expect(started).toBe(false);
    expect(critical(host)).toEqual([`${REJECTED}not valid JSON: control character in string at byte ${PREFIX.length + k}`]);
  });

  it.each(offsets)('a space, DEL or a non-ASCII letter at offset %i of an id is refused', (k) => {
    for (const c of [' ', '\u007f', '\u00e9', '\\u0020']) {
      const { started, host } = startSergo(withId('x'.repeat(k) + c + 'y'.repeat(9)));
      expect(started, JSON.stringify(c)).toBe(false);
      expect(critical(host)).toEqual([`${REJECTED}rules[0].id: must be printable ASCII without spaces`]);
    }
  });

  it.each(offsets)('an escaped quote, an escaped backslash, ! or ~ at offset %i is part of the id (its state key)', (k) => {
    for (const [json, text] of [['\\"', '"'], ['\\\\', '\\'], ['\\u0041', 'A'], ['!', '!'], ['~', '~']]) {
      const id = 'x'.repeat(k) + text + 'y'.repeat(9);
      const { started, host } = startSergo(withId('x'.repeat(k) + json + 'y'.repeat(9)));
      expect(started, json).toBe(true);
      expect(exchange(host, 'GET', '/a').action).toBe('continue');
      expect(ruleBytes(host, `sergo:RateLimitStrategy:${id}#t=1,w=1000`), json).toBeDefined();
    }
  });
});

describe('decoding resources', () => {
  it.each([
    ['/a', true], ['GET:/a', true], ['GET:/a:b', true], ['/a:b', true], ['POST:/c/{x}:y', true], ['/', true], ['A:/', true],
    ['\\u0047ET:/a', true], ['\\/x', true],
    ['get:/a', false], [':/a', false], ['G:x/', false], ['GET:', false], ['a/b', false], ['GET/:a', false], ['GE T:/a', false],
    ['GET::/a', false], ['x:y/z', false], ['/\\u00e9', false], ['/\u00e9', false], ['GET:/\\t', false], ['', false],
  ])('%s: accepted %s', (resource, accepted) => {
    const { started, host } = startSergo(withResource(resource));
    expect(started).toBe(accepted);
    if (!accepted) {
      const message = resource === '' ? 'rules[0].resource: must be a non-empty string of at most 1024 characters'
        : 'rules[0].resource: must be /path or METHOD:/path (printable ASCII)';
      expect(critical(host)).toEqual([REJECTED + message]);
    }
  });
});

describe('decoding fields', () => {
  it('the first of a repeated key counts, and escaped keys match as their text', () => {
    const config = '{"version":1,"rules":[{"id":"r","resource":"/r","resource":"/other","strategy":' +
      '{"k\\u0069nd":"RateLimit","threshold":1,"windowMs":1000,"windowMs":5,"thr\\u0065shold":"x"}}]}';
    const { started, host } = startSergo(config);
    expect(started).toBe(true);
    expect(exchange(host, 'GET', '/r').action).toBe('continue');
    expect(exchange(host, 'GET', '/r').action).toBe('local-response');
    expect(exchange(host, 'GET', '/other').action).toBe('continue');
    expect(ruleBytes(host, 'sergo:RateLimitStrategy:r#t=1,w=1000')).toBeDefined();
  });

  it('an unknown key after repeated known ones is named', () => {
    const config = '{"version":1,"rules":[{"id":"r","id":"s","resource":"/r","strategy":{"kind":"Throttling","intervalMs":1,' +
      '"intervalMs":2,"queueTimeoutMs":1,"queue\\u0054imeout":1}}]}';
    const { started, host } = startSergo(config);
    expect(started).toBe(false);
    expect(critical(host)).toEqual([`${REJECTED}rules[0].strategy.queueTimeout: unknown field`]);
  });

  it('a configuration denser than the tape estimate (64 error ranges a rule) decodes whole', () => {
    const ranges = Array.from({ length: 64 }, (_, i) => [100 + i, 100 + i]);
    const rules = Array.from({ length: 300 }, (_, i) => ({
      id: `b${i}`, resource: `/b/${i}`,
      strategy: { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 1000, recoveryTimeoutMs: 1000,
        minRequestAmount: 1, errorStatus: i === 299 ? [...ranges.slice(1), [500, 500]] : ranges },
    }));
    const { started, host } = startSergo({ version: 1, rules });
    expect(started).toBe(true);
    expect(host.logs.some((l) => l.message === 'sergo: configuration accepted: 300 rules on 300 resources')).toBe(true);
    // The last rule's last range (read from the end of the tape) trips its breaker; 500 does not trip the others.
    expect(exchange(host, 'GET', '/b/299', 500).action).toBe('continue');
    expect(exchange(host, 'GET', '/b/299').action).toBe('local-response');
    expect(exchange(host, 'GET', '/b/0', 500).action).toBe('continue');
    expect(exchange(host, 'GET', '/b/0').action).toBe('continue');
  });
});
