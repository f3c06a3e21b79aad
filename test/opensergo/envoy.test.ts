// The pipeline end to end, with a scripted OpenSergo control plane (test/opensergo/peer.ts): pushes
// → `sergo xds --opensergo` (the real CLI, a child process) → ECDS → a real Envoy that enforces
// them. A new threshold is enforced within 2 s of its push, a deleted rule stops being enforced, a
// push that cannot become a configuration is NACKed while Envoy keeps the last good one, and a
// control plane that restarts (its versions starting again from 1) is subscribed to again and
// converged on, with Envoy enforcing the old rules all along.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Upstream } from '../envoy/upstream.ts';
import { get, type RunningEnvoy } from '../envoy/harness.ts';
import { converged, count, eventually, limitRules, processLaunchers, send, sleep, startEnvoy, statuses, XdsProcess } from '../xds/support.ts';
import { KIND, rateLimit, rule, ScriptedPeer, type PeerStream } from './peer.ts';

const FOO = 'sergo/default/foo';
/** Only for the bootstrap (its app and namespace); the rules come from the control plane. */
const BOOTSTRAP_RULES = limitRules('foo', [{ name: 'placeholder', resource: '/placeholder', threshold: 1 }]);

interface SourceStatus {
  controlPlane: { state: string; streams: number; identifier: string };
  apps: Array<{ kinds: Record<string, { version: number | null; objects: string[] }>; rules: number }>;
  lastNack: { reason: string; kind: string; version: number } | null;
}

for (const launcher of await processLaunchers('test/opensergo/envoy.test.ts')) {
  describe(`OpenSergo control plane → sergo xds --opensergo → Envoy (${launcher.name})`, () => {
    let upstream: Upstream;
    let peer: ScriptedPeer;
    let xds: XdsProcess;
    let envoy: RunningEnvoy;
    let stream: PeerStream;
    let port: number;
    const source = async () => (await xds.status()).source as unknown as SourceStatus;
    const pushes = { rls: 0, ftr: 0 };
    const pushLimit = (s: PeerStream, threshold: number, version = ++pushes.rls) =>
      s.send({ kind: KIND('RateLimitStrategy'), version, data: [rateLimit('limit', threshold)] });
    const pushRule = (s: PeerStream, present: boolean, version = ++pushes.ftr) =>
      s.send({ kind: KIND('FaultToleranceRule'), version, data: present ? [rule('/limited', 'limit')] : [] });

    beforeAll(async () => {
      upstream = await Upstream.start();
      peer = await ScriptedPeer.start();
      port = peer.port;
      const { freePort } = await import('../envoy/harness.ts');
      xds = await XdsProcess.start(['--opensergo', peer.address, '--app', 'foo'], await freePort());
      stream = await peer.stream(0, 5);
      pushLimit(stream, 3);
      pushRule(stream, true);
      await eventually(async () => (await source()).apps[0]!.rules === 1, 15_000, 'the rule served');
      envoy = await startEnvoy(launcher, BOOTSTRAP_RULES, upstream.port, `127.0.0.1:${xds.port}`);
      await converged(() => xds.status(), FOO, 1);
    });
    afterAll(async () => {
      await envoy?.stop();
      await xds?.kill('SIGTERM');
      await peer?.close();
      await upstream?.close();
    });

    it('enforces the pushed RateLimitStrategy + FaultToleranceRule; /status shows the connection and versions', async () => {
      expect(await statuses(envoy, '/limited', 5)).toEqual([200, 200, 200, 429, 429]);
      expect(await statuses(envoy, '/other', 3)).toEqual([200, 200, 200]);
      const status = await source();
      expect(status.controlPlane).toMatchObject({ state: 'connected', streams: 1 });
      expect(status.controlPlane.identifier).toMatch(/^sergo-xds-.+#1$/);
      expect(status.apps[0]!.kinds.RateLimitStrategy).toMatchObject({ version: 1, objects: ['limit'] });
      expect(status.apps[0]!.kinds.FaultToleranceRule!.version).toBe(1);
      expect(stream.answers().map((a) => [a.response_ack, a.status?.code])).toEqual([['ACK', 1], ['ACK', 1]]);
      const metrics = (await get(`${xds.adminUrl}/stats/prometheus`)).body;
      expect(metrics).toContain('\nsergo_xds_opensergo_connected 1\n');
      expect(metrics).toContain('\nsergo_xds_opensergo_streams 1\n');
      expect(metrics).toContain('\nsergo_xds_opensergo_pushes_total{kind="RateLimitStrategy",answer="applied"} 1\n');
      expect(metrics).toContain('\nsergo_xds_opensergo_pushes_total{kind="FaultToleranceRule",answer="applied"} 1\n');
    });

    it('enforces a new threshold within 2 s of its push, in the same Envoy', async () => {
      const seen: Array<{ at: number; status: number }> = [];
      let running = true;
      const traffic = (async () => {
        while (running) seen.push({ at: Date.now(), status: (await send(envoy.url, '/limited')).status });
      })();
      await sleep(300);
      const pushedAt = Date.now();
      pushLimit(stream, 5); // a new parameter: a fresh window of 5
      const deadline = pushedAt + 5_000;
      while (Date.now() < deadline && !seen.some((s) => s.at >= pushedAt && s.status === 200)) await sleep(20);
      await sleep(1_000);
      running = false;
      await traffic;
      expect(seen.filter((s) => s.at < pushedAt).every((s) => s.status === 429)).toBe(true);
      const firstAdmitted = seen.find((s) => s.at >= pushedAt && s.status === 200);
      expect(firstAdmitted, 'a request admitted by the new threshold').toBeDefined();
      expect(firstAdmitted!.at - pushedAt).toBeLessThan(2_000);
      // Exactly the new threshold admitted in the new window (60 s), then refused.
      expect(count(seen.filter((s) => s.at >= pushedAt).map((s) => s.status), 200)).toBe(5);
      expect(seen.at(-1)!.status).toBe(429);
    });

    it('NACKs a push that cannot become a configuration; Envoy keeps enforcing the last good one', async () => {
      const before = stream.answers().length;
      const version = ++pushes.ftr;
      stream.send({ kind: KIND('FaultToleranceRule'), version, data: [rule('/limited', 'limit'), rule('/x', 'missing')] });
      const answer = await stream.answer(before);
      expect([answer.response_ack, answer.status?.code]).toEqual(['NACK', 4000]);
      expect(answer.status?.message).toMatch(/missing/);
      const status = await source();
      expect(status.lastNack).toMatchObject({ kind: KIND('FaultToleranceRule'), version, reason: answer.status?.message });
      expect((await get(`${xds.adminUrl}/stats/prometheus`)).body).toContain('\nsergo_xds_opensergo_pushes_total{kind="FaultToleranceRule",answer="refused"} 1\n');
      expect(await statuses(envoy, '/limited', 2)).toEqual([429, 429]);
      expect(await statuses(envoy, '/x', 2)).toEqual([200, 200]);
    });

    it('a deleted rule (an empty push) is no longer enforced', async () => {
      const previous = (await converged(() => xds.status(), FOO, 1))[0]!.running;
      pushRule(stream, false);
      await converged(() => xds.status(), FOO, 1, previous);
      expect(await statuses(envoy, '/limited', 4)).toEqual([200, 200, 200, 200]);
    });

    it('a restarted control plane: Envoy keeps the rules meanwhile; sergo subscribes again, forgets versions, converges', async () => {
      const previous = (await converged(() => xds.status(), FOO, 1))[0]!.running;
      pushRule(stream, true);
      await converged(() => xds.status(), FOO, 1, previous);
      expect(count(await statuses(envoy, '/limited', 6), 429)).toBeGreaterThan(0);
      await peer.close();
      await eventually(async () => (await source()).controlPlane.state !== 'connected', 15_000, 'the stream seen gone');
      expect(await statuses(envoy, '/limited', 2)).toEqual([429, 429]); // the last rules, still enforced
      const running = (await converged(() => xds.status(), FOO, 1))[0]!.running;

      peer = await ScriptedPeer.start(port);
      const fresh = await peer.stream(0, 5);
      expect(fresh.subscriptions()[0]!.identifier).toMatch(/#2$/);
      // Its counters start at 1 again: accepted, not dropped as outdated.
      pushLimit(fresh, 2, 1);
      pushRule(fresh, true, 1);
      await converged(() => xds.status(), FOO, 1, running);
      expect(fresh.answers().map((a) => [a.response_ack, a.status?.code])).toEqual([['ACK', 1], ['ACK', 1]]);
      expect(await statuses(envoy, '/limited', 4)).toEqual([200, 200, 429, 429]);
      const status = await source();
      expect(status.controlPlane).toMatchObject({ state: 'connected', streams: 2 });
      expect(status.apps[0]!.kinds.RateLimitStrategy!.version).toBe(1);
    });
  });
}
