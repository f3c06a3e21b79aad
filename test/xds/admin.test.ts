// The admin listeners of `sergo xds` and the controller (one shared form, src/admin-server.ts):
// their routes, the index at `/`, HEAD without a body, other methods refused, unknown paths 404.
import { afterEach, describe, expect, it } from 'vitest';
import { startAdmin as startControllerAdmin } from '../../src/controller/admin.ts';
import { startAdmin as startXdsAdmin, type AdminServer } from '../../src/xds/admin.ts';
import type { XdsStatus } from '../../src/xds/status.ts';

const open: AdminServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function at(server: AdminServer, path: string, method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body: await res.text() };
}

describe('sergo xds admin', () => {
  it('answers its routes, lists them at / (not the /metrics alias), refuses the rest', async () => {
    const status = { catalog: { version: 'v7' } } as unknown as XdsStatus;
    const admin = await startXdsAdmin('127.0.0.1', 0, { status: () => status, metrics: async () => 'm 1\n', contentType: 'text/x-metrics' });
    open.push(admin);
    expect(await at(admin, '/status')).toEqual({ status: 200, type: 'application/json', cache: 'no-store', body: `${JSON.stringify(status, null, 2)}\n` });
    expect(await at(admin, '/stats/prometheus?x=1')).toMatchObject({ status: 200, type: 'text/x-metrics', body: 'm 1\n' });
    expect(await at(admin, '/metrics')).toMatchObject({ status: 200, body: 'm 1\n' });
    expect(await at(admin, '/ready')).toMatchObject({ status: 200, body: 'LIVE\n' });
    expect((await at(admin, '/')).body).toBe('sergo xds admin\n  /status\n  /stats/prometheus\n  /ready\n');
    expect(await at(admin, '/ready', 'HEAD')).toMatchObject({ status: 200, body: '' });
    expect(await at(admin, '/ready', 'POST')).toMatchObject({ status: 405, body: 'method not allowed\n' });
    expect(await at(admin, '/nope')).toMatchObject({ status: 404, body: 'not found\n' });
    expect(await at(admin, '/constructor')).toMatchObject({ status: 404 });
  });

  it('rejects with the listen error when the port is taken', async () => {
    const first = await startXdsAdmin('127.0.0.1', 0, { status: () => ({}) as XdsStatus, metrics: async () => '', contentType: 'text/plain' });
    open.push(first);
    await expect(startXdsAdmin('127.0.0.1', first.port, { status: () => ({}) as XdsStatus, metrics: async () => '', contentType: 'text/plain' }))
      .rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('controller admin', () => {
  it('is ready only once synced, and lists its routes', async () => {
    let synced = false;
    const admin = await startControllerAdmin('127.0.0.1:0', { metrics: async () => 'c 2\n', contentType: 'text/x-c', status: () => ({ leader: true }), ready: () => synced });
    open.push(admin);
    expect(await at(admin, '/readyz')).toMatchObject({ status: 503, body: 'not synced yet\n' });
    synced = true;
    expect(await at(admin, '/readyz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await at(admin, '/healthz')).toMatchObject({ status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' });
    expect(await at(admin, '/metrics')).toMatchObject({ status: 200, type: 'text/x-c', body: 'c 2\n' });
    expect(JSON.parse((await at(admin, '/status')).body)).toEqual({ leader: true });
    expect((await at(admin, '/')).body).toBe('sergo controller admin\n  /metrics\n  /healthz\n  /readyz\n  /status\n');
  });
});
