// `sergo serve` with TrafficRouters (issue 15 item 6): serve proxies to one upstream and does not
// route, so it says so at start — naming the routers and what does route them — and on every reload;
// the fault-tolerance rules of the same files are enforced as usual.
import { afterEach, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../src/serve/index.ts';
import { rateLimit, rule, join as joinDocs } from '../support/documents.ts';
import { writeFiles } from '../support/workspace.ts';
import { send } from '../envoy/harness.ts';
import { Labelled } from './labelled.ts';
import { REVIEWS_ROUTER } from './routers.ts';

let serve: ServeHandle | undefined;
let upstream: Labelled | undefined;
afterEach(async () => {
  await serve?.close();
  await upstream?.close();
  serve = upstream = undefined;
});

const NOTE = 'sergo serve does not route: the TrafficRouters default/reviews need Envoy (sergo translate --format envoy --endpoints FILE) or Istio (--format istio); here every request goes to --upstream';

describe('sergo serve with TrafficRouters', () => {
  it('says at start that the routers need Envoy or Istio; requests go to --upstream; the rules are enforced', async () => {
    upstream = await Labelled.start('upstream');
    const paths = writeFiles({ 'all.yaml': joinDocs(rateLimit('one', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 60'), rule('r', 'reviews', ['/limited'], ['one']), REVIEWS_ROUTER) });
    const log: string[] = [];
    serve = await startServe({ rules: [paths['all.yaml']!], upstream: `http://127.0.0.1:${upstream.port}`, listen: '127.0.0.1:0', admin: '127.0.0.1:0', vms: 1, watch: false, write: (l) => void log.push(l) });
    const warnings = log.filter((l) => l.includes('warn'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(NOTE);
    // /exact would go to subset v2 in Envoy; serve sends it to its one upstream.
    expect((await send(serve.url, '/exact', { headers: { host: 'reviews' } })).headers['x-version']).toBe('upstream');
    expect((await send(serve.url, '/limited')).status).toBe(200);
    expect((await send(serve.url, '/limited')).status).toBe(429);
    await serve.reload();
    expect(log.filter((l) => l.includes(NOTE))).toHaveLength(2);
  });

  it('routers alone: serve starts with no rule and the same note', async () => {
    upstream = await Labelled.start('upstream');
    const paths = writeFiles({ 'r.yaml': REVIEWS_ROUTER });
    const log: string[] = [];
    serve = await startServe({ rules: [paths['r.yaml']!], upstream: `http://127.0.0.1:${upstream.port}`, listen: '127.0.0.1:0', admin: '127.0.0.1:0', vms: 1, watch: false, write: (l) => void log.push(l) });
    expect(log.join('')).toContain(NOTE);
    expect(log.join('')).toContain('0 rules');
  });
});
