// Faults around `sergo xds`, with the real Envoy: Envoy started before the server, a ConfigMap-style
// symlink swap of the rules directory, an Envoy that goes away, and the server killed (SIGKILL) and
// restarted while Envoy keeps serving.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Upstream } from '../envoy/upstream.ts';
import type { RunningEnvoy } from '../envoy/harness.ts';
import {
  converged, envoyStat, envoyVersion, eventually, freePort, limitRules, processLaunchers, RulesDir, sleep, startEnvoy, startServer, statuses,
  XdsProcess, type TestServer,
} from './support.ts';

const FOO = 'sergo/default/foo';
const rules = (a: number, b = 100) => limitRules('foo', [{ name: 'a', resource: '/a', threshold: a }, { name: 'b', resource: '/b', threshold: b }]);

/** A Kubernetes ConfigMap volume: files are symlinks through `..data`, which is swapped atomically. */
class ConfigMapDir {
  readonly path = mkdtempSync(join(tmpdir(), 'sergo-xds-configmap-'));
  private generation = 0;

  constructor(files: Record<string, string>) {
    this.publish(files);
    for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(this.path, name));
  }

  publish(files: Record<string, string>): void {
    const previous = this.generation === 0 ? undefined : this.dataDir(this.generation);
    const next = this.dataDir(++this.generation);
    mkdirSync(join(this.path, next));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.path, next, name), text);
    symlinkSync(next, join(this.path, '..data_tmp'));
    renameSync(join(this.path, '..data_tmp'), join(this.path, '..data'));
    if (previous !== undefined) rmSync(join(this.path, previous), { recursive: true });
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }

  private dataDir(n: number): string {
    return `..2026_12_01_00_00_0${n}.000${n}`;
  }
}

for (const launcher of await processLaunchers('test/xds/faults.test.ts')) {
  describe(`sergo xds and Envoy: start order, ConfigMap swaps, departures (${launcher.name})`, () => {
    const configMap = new ConfigMapDir({ 'rules.yaml': rules(2) });
    let upstream: Upstream;
    let server: TestServer | undefined;
    let envoy: RunningEnvoy | undefined;
    const status = () => server!.handle.status();

    beforeAll(async () => { upstream = await Upstream.start(); });
    afterAll(async () => {
      await envoy?.stop();
      await server?.handle.close();
      await upstream?.close();
      configMap.remove();
    });

    it('an Envoy started before the server waits for it (warming), then starts with the served rules', async () => {
      const port = await freePort();
      const starting = startEnvoy(launcher, rules(2), upstream.port, `127.0.0.1:${port}`);
      await sleep(1_000);
      server = await startServer({ rules: [configMap.path], listen: `127.0.0.1:${port}` });
      envoy = await starting;
      expect(await statuses(envoy, '/a', 3)).toEqual([200, 200, 429]);
      // It never ran the default configuration: the first answer came within the initial fetch timeout.
      expect(await envoyStat(envoy, `extension_config_discovery.http_filter.${FOO}.init_fetch_timeout`)).toBe(0);
      expect((await converged(status, FOO, 1))[0]).toMatchObject({ node: 'foo.default', app: 'foo', namespace: 'default', state: 'ACKed' });
    });

    it('pushes a ConfigMap-style symlink swap of the rules directory', async () => {
      const before = (await converged(status, FOO, 1))[0]!.running;
      configMap.publish({ 'rules.yaml': rules(2, 1) });
      const [node] = await converged(status, FOO, 1, before);
      expect(await envoyVersion(envoy!, FOO)).toBe(node!.running);
      expect(await statuses(envoy!, '/b', 2)).toEqual([200, 429]);
    });

    it('forgets an Envoy that went away: /status and the metrics drop it, the server keeps nothing of it', async () => {
      expect(await server!.handle.metricsText()).toMatch(/sergo_xds_streams\{app="sergo\/default\/foo"\} 1/);
      await envoy!.stop();
      envoy = undefined;
      await eventually(() => status().nodes.length === 0, 10_000, 'the node leaving /status');
      expect(await server!.handle.metricsText()).toMatch(/sergo_xds_streams\{app="sergo\/default\/foo"\} 0/);
      expect(server!.log.join('')).toMatch(/node foo\.default \[sergo\/default\/foo\] at \S+ disconnected/);
    });
  });

  describe(`sergo xds killed and restarted (${launcher.name})`, () => {
    const dir = new RulesDir();
    let upstream: Upstream;
    let server: XdsProcess | undefined;
    let envoy: RunningEnvoy;
    let port: number;

    beforeAll(async () => {
      upstream = await Upstream.start();
      dir.save('foo.yaml', rules(4));
      port = await freePort();
      server = await XdsProcess.start(['--rules', dir.path], port);
      envoy = await startEnvoy(launcher, rules(4), upstream.port, `127.0.0.1:${port}`);
      await converged(() => server!.status(), FOO, 1);
    });
    afterAll(async () => {
      await envoy?.stop();
      await server?.kill();
      await upstream?.close();
      dir.remove();
    });

    it('Envoy keeps enforcing while the server is down, then resubscribes and converges to the newest rules', async () => {
      const first = (await converged(() => server!.status(), FOO, 1))[0]!.running;
      expect(await statuses(envoy, '/a', 2)).toEqual([200, 200]);
      await server!.kill('SIGKILL');
      // Down: the last configuration keeps serving, its window included (2 of 4 left).
      expect(await statuses(envoy, '/a', 3)).toEqual([200, 200, 429]);
      expect(await envoyVersion(envoy, FOO)).toBe(first);
      // An edit while the server is down is served when it is back.
      dir.save('foo.yaml', rules(4, 1));
      server = await XdsProcess.start(['--rules', dir.path], port);
      const [node] = await converged(() => server!.status(), FOO, 1, first);
      expect(await envoyVersion(envoy, FOO)).toBe(node!.running);
      expect(await statuses(envoy, '/b', 2)).toEqual([200, 429]);
      // Rule a is unchanged, so its window survived the outage and the push.
      expect(await statuses(envoy, '/a', 1)).toEqual([429]);
      expect(await envoyStat(envoy, `extension_config_discovery.http_filter.${FOO}.update_rejected`)).toBe(0);
      expect(envoy.logs()).toMatch(/StreamAggregatedResources gRPC config stream to sergo_xds closed/);
    });
  });
}
