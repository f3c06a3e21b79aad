// A rate-limit service outage must not look like a limit (issue 12): a fail-closed refusal caused by
// a service error gets its own reply (status `statusOnError`, default 500 as Envoy's ratelimit
// filter's status_on_error; a body and the x-sergo-ratelimit-service header saying so; gRPC
// UNAVAILABLE). The rule's fallback stays for real over-limit answers.
import { describe, it, expect } from 'vitest';
import { startSergo, send, text } from './harness.ts';
import type { HttpCallResponse } from '../../src/host/index.ts';

const SERVICE = { cluster: 'sergo_rls', authority: 'rls.local', timeoutMs: 20 };
const rule = (extra: Record<string, unknown> = {}) => ({
  id: 'prod/app/r/RateLimitStrategy/g@/g', resource: '/g',
  strategy: { kind: 'RateLimit', mode: 'Global', threshold: 100, windowMs: 1000, ...extra },
  fallback: { status: 429, body: 'global limit', headers: [['x-limited', 'global']] },
});
const answers: Record<string, HttpCallResponse> = {
  over: { headers: [[':status', '429']], body: '{"overallCode":"OVER_LIMIT"}' },
  error: { headers: [[':status', '503']], body: 'redis down' },
};

async function reply(answer: keyof typeof answers | 'none', extra: Record<string, unknown> = {}, headers: [string, string][] = []) {
  const handler = answer === 'none' ? undefined : () => Promise.resolve(answers[answer]!);
  const { host } = startSergo({ version: 1, rateLimitService: SERVICE, rules: [rule(extra)] }, handler ? { httpCallHandler: handler } : {});
  const stream = host.stream();
  stream.requestHeaders([[':method', 'GET'], [':path', '/g'], [':authority', 'svc'], ...headers]);
  await host.whenIdle();
  return stream.localResponse!;
}

describe('Global rules when the rate-limit service fails', () => {
  it('an over-limit answer gets the rule\'s fallback', async () => {
    const r = await reply('over');
    expect(r.status).toBe(429);
    expect(text(r.body)).toBe('global limit');
  });

  it('a service error gets 500 with a body and a header that say the service is unavailable', async () => {
    for (const answer of ['error', 'none'] as const) {
      const r = await reply(answer);
      expect(r.status, answer).toBe(500);
      expect(text(r.body)).toBe('Refused by sergo: the rate-limit service is unavailable\n');
      expect(r.additionalHeaders).toContainEqual(['x-sergo-ratelimit-service', 'unavailable']);
      expect(r.additionalHeaders).not.toContainEqual(['x-limited', 'global']);
    }
  });

  it('statusOnError sets the status per rule; Local rules refuse the field', async () => {
    expect((await reply('error', { statusOnError: 503 })).status).toBe(503);
    const local = startSergo({ version: 1, rules: [{ id: 'l', resource: '/l', strategy: { kind: 'RateLimit', threshold: 1, windowMs: 1000, statusOnError: 503 } }] });
    expect(local.started).toBe(false);
    const bad = startSergo({ version: 1, rateLimitService: SERVICE, rules: [rule({ statusOnError: 99 })] });
    expect(bad.started).toBe(false);
  });

  it('a gRPC request refused on a service error gets UNAVAILABLE', async () => {
    const r = await reply('error', {}, [['content-type', 'application/grpc']]);
    expect(r.grpcStatus).toBe(14);
  });
});
