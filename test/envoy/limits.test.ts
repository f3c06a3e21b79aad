// What Envoy 1.36 answers to requests beyond its HTTP/1 codec's default limits (issue 12: sergo serve
// answered 400 with an empty body): 431 with its reason as the body for more than 60 KiB of request
// line and headers (a long URL included: no 414) or more than 100 headers, 400 for what does not
// parse. test/serve/limits.test.ts holds sergo serve to the same table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OVERSIZE_CASES, rawExchange } from '../support/oversize.ts';
import { launchers, type RunningEnvoy } from './harness.ts';
import { LIMIT_EVERY_PATH } from './rules.ts';
import { Upstream } from './upstream.ts';

const RULES = LIMIT_EVERY_PATH;

for (const launcher of await launchers('test/envoy/limits.test.ts')) {
  describe(`request limits in Envoy (${launcher.name})`, () => {
    let upstream: Upstream;
    let envoy: RunningEnvoy;
    beforeAll(async () => {
      upstream = await Upstream.start((_req, res) => { res.end('ok'); return true; });
      envoy = await launcher.start({ rules: RULES, upstreamPort: upstream.port });
    });
    afterAll(async () => {
      await envoy?.stop();
      await upstream?.close();
    });

    it.each(OVERSIZE_CASES)('$what: $status', async ({ bytes, status, body }) => {
      const reply = await rawExchange(envoy.url, bytes);
      expect(reply.status).toBe(status);
      if (body !== undefined) {
        expect(reply.body).toBe(body);
        expect(reply.headers['content-type']).toBe('text/plain');
        expect(reply.headers.connection).toBe('close');
      }
    });
  });
}
