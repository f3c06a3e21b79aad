// TrafficRouter in real Envoy (`sergo translate --format envoy --endpoints FILE`): three loopback
// upstreams labelled version v1, v2, v3 behind host `reviews`; every match kind (RE2-only syntax and a
// regex that backtracks catastrophically in JavaScript included), OR across blocks, AND inside one,
// first-match order, 80/20 weights, header operations, rewrite, redirect, direct responses, faults,
// mirrors, and the fallback to v1 of a subset without endpoints (an aggregate cluster).
// Process launcher only: the endpoints are loopback addresses of this machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchers, send, type Reply, type RunningEnvoy } from '../envoy/harness.ts';
import { endpointsFile, Labelled } from './labelled.ts';
import { DETAILS_ROUTER, REVIEWS_ROUTER, REVIEWS_SUBSETS } from './routers.ts';

const ROUTER = [REVIEWS_SUBSETS, REVIEWS_ROUTER, DETAILS_ROUTER].join('---\n');

const [launcher] = (await launchers('test/traffic/router.test.ts')).filter((l) => l.name === 'process');

describe.skipIf(launcher === undefined)('TrafficRouter in Envoy (process, 2 workers)', () => {
  let v1: Labelled, v2: Labelled, v3: Labelled, other: Labelled;
  let envoy: RunningEnvoy;

  beforeAll(async () => {
    [v1, v2, v3, other] = await Promise.all(['v1', 'v2', 'v3', 'other'].map((l) => Labelled.start(l)));
    // details: v1 and v3 only, so its subset v2 has no endpoint.
    const endpoints = endpointsFile({ reviews: [v1, v2, v3], details: [v1, v3] });
    envoy = await launcher!.start({ rules: ROUTER, upstreamPort: other.port, translateArgs: ['--endpoints', endpoints] });
  });
  afterAll(async () => {
    await envoy?.stop();
    await Promise.all([v1, v2, v3, other].map((u) => u?.close()));
  });

  const to = (path: string, headers: Record<string, string> = {}, method = 'GET', host = 'reviews'): Promise<Reply> =>
    send(envoy.url, path, { method, headers: { host, ...headers } });
  const version = async (path: string, headers: Record<string, string> = {}, method = 'GET', host = 'reviews') =>
    (await to(path, headers, method, host)).headers['x-version'];

  it('uri exact, prefix, and RE2-only syntax (named group (?P<…>), [[:digit:]], \\pN)', async () => {
    expect(await version('/exact')).toBe('v2');
    expect(await version('/exact/more')).toBe('v1');
    expect(await version('/prefix/x')).toBe('v3');
    expect(await version('/prefix')).toBe('v1');
    expect(await version('/re2/123')).toBe('v2');
    expect(await version('/re2/12a')).toBe('v1');
  });

  it('a regex that backtracks catastrophically in JavaScript is linear in RE2: the request is answered', async () => {
    expect(await version(`/evil/${'a'.repeat(64)}`)).toBe('v1');
    expect(await version('/evil/aaab')).toBe('v3');
  });

  it('method, authority (short name vs FQDN), scheme, ignoreUriCase', async () => {
    expect(await version('/anything', {}, 'DELETE')).toBe('v3');
    expect(await version('/auth')).toBe('v1');
    expect(await version('/auth', {}, 'GET', 'reviews.default.svc.cluster.local')).toBe('v3');
    // The virtual host ignores the port; an authority match sees it (as in Istio: :authority is matched as sent).
    expect(await version('/auth', {}, 'GET', 'reviews.default.svc.cluster.local:9080')).toBe('v1');
    expect(await version('/exact', {}, 'GET', 'reviews:9080')).toBe('v2');
    expect(await version('/scheme')).toBe('v2');
    expect(await version('/caseless')).toBe('v3');
    expect(await version('/CASELESS')).toBe('v3');
  });

  it('headers AND inside a block (presence included), OR across blocks, withoutHeaders, full-match header regex', async () => {
    expect(await version('/x', { 'x-user': 'alice' })).toBe('v1');
    expect(await version('/x', { 'x-user': 'alice', 'x-beta': '' })).toBe('v2');
    expect(await version('/x', { 'x-user': 'bob', 'x-beta': '1' })).toBe('v1');
    expect(await version('/x?tag=v2')).toBe('v2');
    expect(await version('/x?tag=v22')).toBe('v1');
    expect(await version('/without')).toBe('v2');
    expect(await version('/without', { 'x-block': '1' })).toBe('v1');
    expect(await version('/hre', { 'x-id': '123' })).toBe('v3');
    expect(await version('/hre', { 'x-id': '1234' })).toBe('v1');
  });

  it('the first matching http entry wins', async () => {
    expect(await version('/order', { 'x-first': '1' })).toBe('v3');
    expect(await version('/order')).toBe('v2');
  });

  it('weights 80/20: within ±5 % over 2,000 requests', async () => {
    const counts = new Map<string, number>();
    const total = 2000;
    for (let sent = 0; sent < total; sent += 50) {
      const versions = await Promise.all(Array.from({ length: 50 }, () => version('/split')));
      for (const v of versions) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['v2', 'v3']);
    expect(Math.abs(counts.get('v2')! / total - 0.8)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(counts.get('v3')! / total - 0.2)).toBeLessThanOrEqual(0.05);
  });

  it('header operations: route and destination request headers set/add/remove; response set/remove', async () => {
    const before = v2.upstream.seen.length;
    const reply = await to('/headers', { 'x-remove': 'gone', 'x-add': 'one', 'x-set': 'zero' });
    expect(reply.headers['x-version']).toBe('v2');
    expect(reply.headers['x-resp']).toBe('yes');
    expect(reply.headers['x-upstream-path']).toBeUndefined();
    const seen = v2.upstream.seen.slice(before).find((s) => s.path === '/headers')!;
    expect(seen.headers['x-set']).toBe('one');
    expect(seen.headers['x-add']).toBe('one, two'); // appended: Node joins the two values
    expect(seen.headers['x-dest']).toBe('v2');
    expect(seen.headers['x-remove']).toBeUndefined();
  });

  it('rewrite (prefix and authority), redirect, directResponse, fault abort, mirror', async () => {
    const before = v2.upstream.seen.length;
    expect((await to('/old/page')).body).toBe('v2 /new/page');
    expect((await to('/swap?q=1')).body).toBe('v2 /swapped?q=1');
    expect(v2.upstream.seen.slice(before).find((s) => s.path === '/new/page')!.headers.host).toBe('rewritten.example');
    const moved = await to('/moved');
    expect(moved.status).toBe(308);
    expect(moved.headers.location).toBe('http://elsewhere.example/there');
    const teapot = await to('/teapot');
    expect([teapot.status, teapot.body]).toEqual([418, 'short and stout']);
    const faulted = await to('/fault');
    expect(faulted.status).toBe(503);
    expect(v2.upstream.seen.some((s) => s.path === '/fault')).toBe(false);
    expect(await version('/mirror')).toBe('v2');
    await eventually(() => v3.upstream.seen.some((s) => s.path === '/mirror'), 10_000, 'the mirrored request reaching v3');
  });

  it('timeout (504 when the upstream is slower), retries (5xx tried 1 + 2 times), fault delay (counted by Envoy)', async () => {
    expect((await to('/slow?delay=6000')).status).toBe(504); // generous margins both ways on a loaded machine
    expect((await to('/slow?delay=1')).status).toBe(200);
    const before = v2.upstream.seen.filter((s) => s.path.startsWith('/flaky')).length;
    expect((await to('/flaky?status=503')).status).toBe(503);
    expect(v2.upstream.seen.filter((s) => s.path.startsWith('/flaky')).length - before).toBe(3);
    expect((await to('/delayed')).status).toBe(200);
    await eventually(async () => ((await envoy.stats('fault')).get('http.ingress_http.fault.delays_injected') ?? 0) >= 1, 10_000, 'fault.delays_injected');
  });

  it('fallback: subset v2 of details has no endpoint, so the aggregate cluster sends to v1; without fallback: 503', async () => {
    expect(await version('/any', {}, 'GET', 'details')).toBe('v1');
    expect((await to('/nofallback', {}, 'GET', 'details')).status).toBe(503);
  });

  it('other hosts go to --upstream', async () => {
    expect(await version('/exact', {}, 'GET', 'elsewhere')).toBe('other');
  });
});
