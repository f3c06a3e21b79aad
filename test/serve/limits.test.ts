// sergo serve answers requests beyond the HTTP/1 limits as Envoy 1.36 does (the table in
// test/support/oversize.ts, which test/envoy/limits.test.ts checks against a real Envoy): 431 with a
// body, not 400 with an empty one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OVERSIZE_CASES, rawExchange } from '../support/oversize.ts';
import { docs, rule, serveFor, startUpstream, strategy, workspace, type Served, type TestUpstream, type Workspace } from './helpers.ts';

let ws: Workspace;
let up: TestUpstream;
let served: Served;

beforeAll(async () => {
  ws = workspace();
  up = await startUpstream();
  const rules = ws.file('rules.yaml', docs(strategy('RateLimitStrategy', 'rl', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 1000\nstatDurationSeconds: 60'), rule('r', '/**', ['rl'])));
  served = await serveFor({ rules: [rules], upstream: up.url });
});
afterAll(async () => {
  await served?.serve.close();
  up?.close();
  ws?.cleanup();
});

describe('sergo serve: request limits as Envoy', () => {
  it.each(OVERSIZE_CASES)('$what: $status', async ({ bytes, status, body }) => {
    const reply = await rawExchange(served.base, bytes);
    expect(reply.status).toBe(status);
    if (body !== undefined) {
      expect(reply.body).toBe(body);
      expect(reply.headers['content-type']).toBe('text/plain');
      expect(reply.headers.connection).toBe('close');
    }
  });
});
