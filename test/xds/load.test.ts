// 50 xDS streams at once (plain gRPC clients, as Envoys open them): every one gets its app's
// configuration, every one converges to an edit, a NACKing client is told apart, GlobalToLocal
// shares over 50 add up to the budget, and when they all leave the server keeps nothing of them.
// Times are printed, never asserted (bench/xds.ts measures them).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/paths.ts';
import { AdsClient } from './clients.ts';
import { eventually, limitRules, RulesDir, startServer, type TestServer } from './support.ts';

const CLIENTS = 50;
const APPS = ['a0', 'a1', 'a2', 'a3', 'a4'];

function rules(threshold: number): string {
  const perApp = APPS.map((app) => limitRules(app, [{ name: `${app}-limit`, resource: '/x', threshold }]));
  const shared = limitRules('shared', [{ name: 'shared-budget', resource: '/x', threshold: 1000, mode: 'GlobalToLocal' }]);
  return [...perApp, shared].join('---\n');
}

describe(`${CLIENTS} xDS streams at once`, () => {
  const dir = new RulesDir();
  let server: TestServer;
  let clients: AdsClient[] = [];

  beforeAll(async () => {
    dir.save('rules.yaml', rules(10));
    server = await startServer({ rules: [dir.path], logLevel: 'warn' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.handle.close();
    dir.remove();
  });

  it('serve every stream its app, converge all of them on an edit, and leave nothing behind', async () => {
    const started = Date.now();
    clients = Array.from({ length: CLIENTS }, (_, i) => new AdsClient(server.handle.address, `node-${i}`, `sergo/default/${APPS[i % APPS.length]}`, (v) => i === 7 && v !== clients[7]?.received[0]?.version));
    const first = await Promise.all(clients.map((c) => c.until(() => true)));
    const firstMs = Math.max(...first.map((r) => r.at)) - started;
    for (const [i, c] of clients.entries()) {
      const rule = first[i]!.configs.get(c.resource)!.rules[0]!;
      expect(rule.id).toBe(`default/${APPS[i % APPS.length]}/${APPS[i % APPS.length]}-limit/RateLimitStrategy/${APPS[i % APPS.length]}-limit@/x`);
      expect(rule.strategy.threshold).toBe(10);
    }
    await eventually(() => server.handle.status().nodes.filter((n) => n.state === 'ACKed').length === CLIENTS, 10_000, 'every first version ACKed');

    const edited = Date.now();
    dir.save('rules.yaml', rules(20));
    expect(await server.handle.reload()).toBe('applied');
    await Promise.all(clients.map((c) => c.until((r) => r.configs.get(c.resource)?.rules[0]?.strategy.threshold === 20)));
    const convergedMs = Math.max(...clients.map((c) => c.latest!.at)) - edited;
    await eventually(() => server.handle.status().nodes.filter((n) => n.state === 'ACKed').length === CLIENTS - 1, 10_000, 'the edit ACKed by all but the NACKing client');
    const nacking = server.handle.status().nodes.find((n) => n.node === 'node-7')!;
    expect(nacking).toMatchObject({ state: 'NACKed', running: first[7]!.version, lastError: { message: `node-7 refuses ${nacking.sent}` } });
    expect(await server.handle.metricsText()).toMatch(new RegExp(`sergo_xds_nacks_total\\{app="sergo/default/${APPS[7 % APPS.length]}"\\} 1`));
    console.log(`sergo xds: ${CLIENTS} streams: all had their first configuration ${firstMs} ms after they were opened; an edit reached all ${convergedMs} ms after the save`);

    for (const c of clients) c.close();
    clients = [];
    await eventually(() => server.handle.status().nodes.length === 0, 10_000, 'every stream gone from /status');
    const metrics = await server.handle.metricsText();
    for (const app of APPS) expect(metrics).toMatch(new RegExp(`sergo_xds_streams\\{app="sergo/default/${app}"\\} 0`));
  });

  it('shows what a reconnecting client runs when it refuses everything newer', async () => {
    const client = new AdsClient(server.handle.address, 'stubborn', 'sergo/default/a0', () => true, 'v-from-before');
    clients = [client];
    await eventually(() => server.handle.status().nodes[0]?.state === 'NACKed', 10_000, 'the NACK');
    expect(server.handle.status().nodes[0]).toMatchObject({ node: 'stubborn', running: 'v-from-before', lastError: { message: expect.stringContaining('stubborn refuses') } });
    client.close();
    await eventually(() => server.handle.status().nodes.length === 0, 10_000, 'the client gone');
  });

  it('drops a client that froze without closing its connection (keepalive), and re-splits its budget', async () => {
    const quick = await startServer({ rules: [dir.path], logLevel: 'warn', keepalive: { timeMs: 500, timeoutMs: 500 } });
    const live = new AdsClient(quick.handle.address, 'live', 'sergo/default/shared');
    const frozen = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/xds/client-process.ts'), quick.handle.address, 'frozen', 'sergo/default/shared'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const shareOf = () => live.latest?.configs.get(live.resource)?.rules[0]?.strategy.threshold;
      await eventually(() => shareOf() === 500 && quick.handle.status().nodes.every((n) => n.state === 'ACKed') && quick.handle.status().nodes.length === 2, 20_000, 'two streams splitting 1000');
      frozen.kill('SIGSTOP');
      await eventually(() => quick.handle.status().nodes.length === 1, 10_000, 'the frozen stream dropped');
      await eventually(() => shareOf() === 1000, 5_000, 'the whole budget back to the live stream');
    } finally {
      frozen.kill('SIGKILL');
      live.close();
      await quick.handle.close();
    }
  });

  it('splits a GlobalToLocal budget of 1000 over 50 streams so that the shares add up to it', async () => {
    const joined = Array.from({ length: CLIENTS }, (_, i) => new AdsClient(server.handle.address, `shared-${i}`, 'sergo/default/shared'));
    clients = joined;
    const shareOf = (c: AdsClient) => c.latest?.configs.get(c.resource)?.rules[0]?.strategy.threshold;
    // Every stream ends up with the split for 50 (each join re-splits the ones already there).
    await eventually(() => joined.every((c) => shareOf(c) === 20), 15_000, 'every stream at its share of 50');
    expect(joined.reduce((sum, c) => sum + shareOf(c)!, 0)).toBe(1000);
    // 13 leave: 37 share 1000 as 1 × 28 + 36 × 27.
    for (const c of joined.splice(0, 13)) c.close();
    await eventually(() => joined.every((c) => [27, 28].includes(shareOf(c)!)) && joined.reduce((s, c) => s + shareOf(c)!, 0) === 1000, 15_000, 'the split over 37');
    expect(joined.filter((c) => shareOf(c) === 28)).toHaveLength(1000 % 37);
  });
});
