// gRPC and the filter's local replies (through src/host, which mirrors Envoy's): every reply carries
// a gRPC status — RESOURCE_EXHAUSTED for the limits, UNAVAILABLE for an open breaker, or the
// fallback's grpcStatus — which the host uses for gRPC requests only, as Envoy does. The filter
// itself never looks at content-type. Envoy's own answers: test/envoy/grpc.test.ts.
import { describe, expect, it } from 'vitest';
import type { HeaderList, ProxyWasmHost } from '../../src/host/index.ts';
import { exchange, rateLimitRule, send, startSergo } from './harness.ts';

const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
const grpcHeaders = (path: string, contentType = 'application/grpc'): HeaderList =>
  [[':method', 'POST'], [':scheme', 'http'], [':authority', 'svc'], [':path', path], ['content-type', contentType], ['te', 'trailers']];

const breaker = { kind: 'CircuitBreaker', mode: 'ErrorRequestRatio', triggerRatio: 0.5, statDurationMs: 10_000, recoveryTimeoutMs: 60_000, minRequestAmount: 1 };
const RULES = [
  rateLimitRule('rl', '/pkg.Svc/Limited', 0, 1000),
  { id: 'th', resource: '/pkg.Svc/Paced', strategy: { kind: 'Throttling', intervalMs: 10_000, queueTimeoutMs: 1 } },
  { id: 'cl', resource: '/pkg.Svc/Single', strategy: { kind: 'ConcurrencyLimit', maxConcurrency: 0 } },
  { id: 'cb', resource: '/pkg.Svc/Guarded', strategy: breaker },
  rateLimitRule('custom', '/pkg.Svc/Custom', 0, 1000, { status: 503, body: 'maintenance', grpcStatus: 9 }),
  rateLimitRule('own', '/pkg.Svc/Own', 0, 1000, { status: 429, body: 'own', headers: [['grpc-status', '4']] }),
  { id: 'cb2', resource: '/pkg.Svc/Guarded2', strategy: breaker, fallback: { status: 503, body: 'open' } },
];

function blocked(host: ProxyWasmHost, headers: HeaderList) {
  const stream = host.stream();
  const result = stream.requestHeaders(headers, false);
  stream.finish();
  expect(result.action).toBe('local-response');
  return result.localResponse!;
}

/** Trips a breaker (minRequestAmount 1: one 500 is enough). */
function trip(host: ProxyWasmHost, path: string): void {
  expect(exchange(host, 'POST', path, 500).action).toBe('continue');
}

describe('gRPC status of the local replies', () => {
  it.each([
    ['RateLimit', '/pkg.Svc/Limited', RESOURCE_EXHAUSTED],
    ['Throttling', '/pkg.Svc/Paced', RESOURCE_EXHAUSTED],
    ['ConcurrencyLimit', '/pkg.Svc/Single', RESOURCE_EXHAUSTED],
    ['CircuitBreaker', '/pkg.Svc/Guarded', UNAVAILABLE],
    ['CircuitBreaker with a fallback without grpcStatus', '/pkg.Svc/Guarded2', UNAVAILABLE],
    ['a fallback with grpcStatus', '/pkg.Svc/Custom', 9],
  ])('%s: the filter passes %s → %d', (_what, path, code) => {
    const { host } = startSergo({ version: 1, rules: RULES });
    if (path.startsWith('/pkg.Svc/Guarded')) trip(host, path);
    if (path === '/pkg.Svc/Paced') expect(exchange(host, 'POST', path).action).toBe('continue');   // takes the slot
    expect(blocked(host, grpcHeaders(path)).grpcStatus).toBe(code);
  });

  it('a gRPC request gets the trailers-only reply Envoy sends: 200, application/grpc, grpc-status, grpc-message', () => {
    const { host } = startSergo({ version: 1, rules: RULES });
    const reply = blocked(host, grpcHeaders('/pkg.Svc/Limited'));
    expect(reply).toMatchObject({ grpc: true, status: 200, bodyText: '', details: 'sergo_blocked' });
    expect(reply.body.length).toBe(0);
    expect(reply.headers).toEqual([
      [':status', '200'],
      ['content-type', 'application/grpc'],        // the default fallback's text/plain, replaced in place
      ['grpc-status', '8'],
      ['grpc-message', 'Blocked by sergo: RateLimitStrategy%0A'],
    ]);
  });

  it('grpc+proto is gRPC; grpc-web and a parameter are not (Envoy\'s Grpc::Common::hasGrpcContentType)', () => {
    const { host } = startSergo({ version: 1, rules: RULES });
    expect(blocked(host, grpcHeaders('/pkg.Svc/Custom', 'application/grpc+proto')).grpc).toBe(true);
    for (const contentType of ['application/grpc-web', 'application/grpc;charset=utf-8', 'application/json', 'Application/gRPC']) {
      expect(blocked(host, grpcHeaders('/pkg.Svc/Custom', contentType))).toMatchObject({ grpc: false, status: 503, bodyText: 'maintenance' });
    }
  });

  it('an HTTP request blocked by the same rule gets the fallback as configured', () => {
    const { host } = startSergo({ version: 1, rules: RULES });
    const { result } = send(host, 'POST', '/pkg.Svc/Custom');
    expect(result.localResponse).toMatchObject({ grpc: false, status: 503, bodyText: 'maintenance', grpcStatus: 9 });
    expect(result.localResponse!.headers).toEqual([[':status', '503'], ['content-length', '11'], ['content-type', 'text/plain']]);
  });

  it('a grpc-status header the fallback sets itself wins (Envoy only adds one when there is none)', () => {
    const { host } = startSergo({ version: 1, rules: RULES });
    const reply = blocked(host, grpcHeaders('/pkg.Svc/Own'));
    expect(reply.headers).toEqual([[':status', '200'], ['grpc-status', '4'], ['content-type', 'application/grpc'], ['grpc-message', 'own']]);
  });

  it.each([
    ['17', 17],
    ['-1', -1],
    ['1.5', 1.5],
    ['a string', '"8"'],
  ])('refuses grpcStatus %s', (_what, value) => {
    const config = `{"version": 1, "rules": [{"id": "a", "resource": "/a", "strategy": {"kind": "RateLimit", "threshold": 1, "windowMs": 1000}, "fallback": {"status": 429, "grpcStatus": ${value}}}]}`;
    const { host, started } = startSergo(config);
    expect(started).toBe(false);
    expect(host.logs.some((l) => l.level === 'critical' && l.message.includes('rules[0].fallback.grpcStatus: must be an integer from 0 to 16'))).toBe(true);
  });
});
