import { describe, it, expect } from 'vitest';
import { startSergo, exchange, rateLimitRule, sergoModule } from './harness.ts';
import { ProxyWasmHost, ManualClock } from '../../src/host/index.ts';

const RL = '"strategy":{"kind":"RateLimit","threshold":1,"windowMs":1000}';
const criticalLogs = (host: ProxyWasmHost) => host.logs.filter((l) => l.level === 'critical').map((l) => l.message);

describe('filter configuration', () => {
  it('accepts {"version": 1, ...} and logs what it loaded', () => {
    const { host, started } = startSergo({ version: 1, rules: [] });
    expect(started).toBe(true);
    expect(host.logs.some((l) => l.level === 'info' && l.message.includes('configuration accepted: 0 rules'))).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['not JSON', 'limit=100;window=1s'],
    ['wrong version', '{"version": 2, "rules": []}'],
    ['no version', '{"rules": []}'],
    ['unknown field', '{"version": 1, "rules": [], "extra": true}'],
    ['bad strategy', '{"version": 1, "rules": [{"id": "a", "resource": "/a", "strategy": {"kind": "Nope"}}]}'],
    ['negative threshold', '{"version": 1, "rules": [{"id": "a", "resource": "/a", "strategy": {"kind": "RateLimit", "threshold": -1, "windowMs": 1000}}]}'],
    ['fractional window', '{"version": 1, "rules": [{"id": "a", "resource": "/a", "strategy": {"kind": "RateLimit", "threshold": 1, "windowMs": 1.5}}]}'],
    ['header with CRLF', '{"version": 1, "rules": [{"id": "a", "resource": "/a", "strategy": {"kind": "RateLimit", "threshold": 1, "windowMs": 1000}, "fallback": {"status": 429, "headers": [["x", "a\\r\\nb"]]}}]}'],
    ['resource without slash', '{"version": 1, "rules": [{"id": "a", "resource": "foo", "strategy": {"kind": "RateLimit", "threshold": 1, "windowMs": 1000}}]}'],
    ['slow breaker without maxAllowedRtMs', '{"version": 1, "rules": [{"id": "a", "resource": "/a", "strategy": {"kind": "CircuitBreaker", "mode": "SlowRequestRatio", "triggerRatio": 0.5, "statDurationMs": 1000, "recoveryTimeoutMs": 1000, "minRequestAmount": 1}}]}'],
  ])('refuses %s: on_configure returns false with a critical log', (_name, config) => {
    const { host, started } = startSergo(config);
    expect(started).toBe(false);
    expect(criticalLogs(host).some((m) => m.startsWith('sergo: configuration rejected:'))).toBe(true);
    expect(host.vms.every((vm) => !vm.failed)).toBe(true);
  });

  it.each([
    ['a later rule', `{"version":1,"rules":[{"id":"a","resource":"/a",${RL}},{"id":"b","resource":"/b","strategy":{"kind":"RateLimit","threshold":1,"windowMs":1000,"batch":2}}]}`,
      'rules[1].strategy: batch, failOpen and statusOnError apply to mode Global only'],
    ['an unknown rule field', `{"version":1,"rules":[{"id":"a","resource":"/a",${RL},"extra":1}]}`, 'rules[0].extra: unknown field'],
    ['escaped keys and kinds (as their text)', `{"version":1,"rules":[{"id":"a","resource":"/a","strategy":{"kind":"Rate\\u004cimit","threshold":1,"windowMs":1000,"w\\u00e9":2}}]}`,
      'rules[0].strategy.wé: unknown field'],
    ['a missing field', '{"version":1,"rules":[{"id":"a","resource":"/a","strategy":{"kind":"Throttling","intervalMs":1}}]}',
      'rules[0].strategy.queueTimeoutMs: is required'],
    ['an error range', '{"version":1,"rules":[{"id":"a","resource":"/a","strategy":{"kind":"CircuitBreaker","mode":"ErrorRequestRatio","triggerRatio":0.5,"statDurationMs":1,"recoveryTimeoutMs":1,"minRequestAmount":1,"errorStatus":[[500,599],[600,601]]}}]}',
      'rules[0].strategy.errorStatus[1]: must be [from, to] with 100 <= from <= to <= 599'],
    ['a fallback header', `{"version":1,"rules":[{"id":"a","resource":"/a",${RL},"fallback":{"status":429,"headers":[["x","y"],["bad name","y"]]}}]}`,
      'rules[0].fallback.headers[1]: header name must be an HTTP token'],
    ['an unknown kind', '{"version":1,"rules":[{"id":"a","resource":"/a","strategy":{"kind":"N\\u00e9"}}]}', 'rules[0].strategy.kind: unknown strategy kind "Né"'],
    ['a lane condition', '{"version":1,"lanes":{"header":"x-lane","baggageKey":"lane","names":["a"],"colour":[{"lane":"a","when":[{"path":{"exact":"/x"}},{"headers":[["x",{"prefix":"a\\r"}]]}]}]},"rules":[]}',
      'lanes.colour[0].when[1].headers[0].prefix: must be a string of at most 1024 characters without CR, LF or NUL'],
    ['an option', '{"version":1,"options":{"onCasExhausted":"maybe"},"rules":[]}', 'options.onCasExhausted: must be "block" or "allow"'],
    ['a trailing comma', `{"version":1,"rules":[{"id":"a","resource":"/a",${RL}}],}`, 'not valid JSON: expected a string key at byte 112'],
    ['a bad escape', '{"version":1,"rules":[{"id":"a\\x"}]}', 'not valid JSON: bad escape at byte 32'],
    ['an exponent without digits', '{"version":1,"rules":[1e]}', 'not valid JSON: expected a digit in the exponent at byte 24'],
  ])('names the place of the first problem: %s', (_name, config, message) => {
    const { started, host } = startSergo(config);
    expect(started).toBe(false);
    expect(criticalLogs(host)).toEqual([`sergo: configuration rejected: ${message}`]);
  });

  it('random bytes as configuration never trap (500 seeds)', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
    const valid = new TextEncoder().encode(JSON.stringify({ version: 1, rules: [rateLimitRule('a', '/a/{x}', 3, 1000, { status: 503, body: 'x', headers: [['a', 'b']] })] }));
    for (let i = 0; i < 500; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(Math.floor(rand() * 300));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      } else {
        // Mutations of a valid configuration reach deeper into the decoder.
        bytes = valid.slice();
        const edits = 1 + Math.floor(rand() * 4);
        for (let e = 0; e < edits; e++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) bytes = bytes.slice(0, Math.floor(rand() * bytes.length));
      }
      const host = new ProxyWasmHost({ module: sergoModule(), configuration: bytes, clock: new ManualClock() });
      host.start();
      expect(host.vms[0].failed, `seed ${i}`).toBe(false);
      // Whatever was accepted must serve requests without trapping either.
      exchange(host, 'GET', '/a/1');
      expect(host.vms[0].failed, `seed ${i} (request)`).toBe(false);
    }
  });

  it('deep nesting is refused, not a stack overflow', () => {
    const { host, started } = startSergo('['.repeat(100_000));
    expect(started).toBe(false);
    expect(host.vms[0].failed).toBe(false);
  });
});

describe('configuration reload', () => {
  it('keeps the counters of rules whose identity and parameters are unchanged', () => {
    const rule = rateLimitRule('keep', '/k', 5, 60_000);
    const { host } = startSergo({ version: 1, rules: [rule] }, { vms: 2 });
    for (let i = 0; i < 3; i++) expect(exchange(host, 'GET', '/k', 200, i % 2).action).toBe('continue');
    expect(host.configure(JSON.stringify({ version: 1, rules: [rule, rateLimitRule('other', '/o', 1, 1000)] }))).toBe(true);
    expect(exchange(host, 'GET', '/k').action).toBe('continue');
    expect(exchange(host, 'GET', '/k').action).toBe('continue');
    expect(exchange(host, 'GET', '/k').action).toBe('local-response');   // 5 in total, across the reload
  });

  it("starts afresh when a rule's parameters change", () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('p', '/p', 2, 60_000)] });
    exchange(host, 'GET', '/p');
    exchange(host, 'GET', '/p');
    expect(exchange(host, 'GET', '/p').action).toBe('local-response');
    expect(host.configure(JSON.stringify({ version: 1, rules: [rateLimitRule('p', '/p', 3, 60_000)] }))).toBe(true);
    for (let i = 0; i < 3; i++) expect(exchange(host, 'GET', '/p').action).toBe('continue');
    expect(exchange(host, 'GET', '/p').action).toBe('local-response');
  });

  it('an invalid configuration is refused and the old one keeps serving', () => {
    const { host } = startSergo({ version: 1, rules: [rateLimitRule('old', '/old', 1, 60_000)] });
    expect(exchange(host, 'GET', '/old').action).toBe('continue');
    expect(host.configure('{"version": 1, "rules": [{"id": "x"}]}')).toBe(false);
    expect(criticalLogs(host).some((m) => m.includes('rules[0].resource') && m.includes('previous configuration keeps serving'))).toBe(true);
    expect(exchange(host, 'GET', '/old').action).toBe('local-response');
  });
});

describe('request input', () => {
  it('random :path / :method bytes (2,000 requests) never trap and never match by accident', () => {
    const rules = [
      rateLimitRule('exact', '/a/b', 0, 1000), rateLimitRule('tpl', 'GET:/a/{x}/c', 0, 1000), rateLimitRule('rest', '/z/**', 0, 1000),
    ];
    const { host } = startSergo({ version: 1, rules }, { vms: 2 });
    let seed = 99;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return (seed >>> 8) % n; };
    const bytes = (n: number) => Array.from({ length: n }, () => String.fromCharCode(rand(256))).join('');
    let blocked = 0;
    for (let i = 0; i < 2000; i++) {
      const path = rand(4) === 0 ? '/' + bytes(rand(40)) : rand(2) ? bytes(rand(3000)) : '/a/' + bytes(rand(5)) + '/c?' + bytes(5);
      const s = host.stream(i % 2);
      const r = s.requestHeaders([[':method', rand(3) ? 'GET' : bytes(rand(8))], [':path', path], [':authority', 'x']]);
      const expectBlocked = path === '/a/b' || path.startsWith('/z') && (path.length === 2 || path[2] === '/' || path[2] === '?');
      if (r.action === 'local-response') blocked++;
      if (r.action === 'local-response') expect(/^\/a\/[^/?]+\/c(\?|$)|^\/a\/b(\?|$)|^\/z(\/|\?|$)/.test(path), JSON.stringify(path)).toBe(true);
      else if (expectBlocked) expect(r.action, JSON.stringify(path)).toBe('local-response');
      s.finish();
    }
    expect(blocked).toBeGreaterThan(50);   // the template was hit through random segments
    expect(host.vms.every((vm) => !vm.failed)).toBe(true);
  });
});
