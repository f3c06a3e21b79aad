// What Envoy does when the module fails, under each `--fail-policy`, as README "When the module
// fails" says: a module that traps (build/test/trap.wasm traps on every request) and a plugin
// configuration the filter refuses (on_configure returns false).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { runSergo } from '../support/cli.ts';
import { repoRoot } from '../support/paths.ts';
import { envoyBinary, freePort, launchers, send, type Launcher, type RunningEnvoy } from './harness.ts';
import { LIMIT_EVERY_PATH } from './rules.ts';
import { Upstream } from './upstream.ts';

const TRAP_WASM = join(repoRoot, 'build', 'test', 'trap.wasm');

const RULES = LIMIT_EVERY_PATH;

const found = await launchers('test/envoy/failure.test.ts');

/** Sequential requests, each on its own connection: with 2 workers, both VMs see requests. */
async function statuses(envoy: RunningEnvoy, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(envoy.url, `/r${i}`)).status);
  return out;
}

function trapSuite(launcher: Launcher, policy: 'open' | 'closed', expectAfter: number) {
  describe(`a module that traps, --fail-policy ${policy} (${launcher.name})`, () => {
    let upstream: Upstream;
    let envoy: RunningEnvoy;
    beforeAll(async () => {
      upstream = await Upstream.start();
      envoy = await launcher.start({ rules: RULES, upstreamPort: upstream.port, module: TRAP_WASM, concurrency: 2, translateArgs: ['--fail-policy', policy] });
    });
    afterAll(async () => {
      await envoy?.stop();
      await upstream?.close();
    });

    it(`answers 503 to the request that trapped, then ${expectAfter} to every request of that worker`, async () => {
      const seen = await statuses(envoy, 12);
      // The first request on each worker runs the module and traps: Envoy resets it with a 503.
      // Which worker takes which connection is the kernel's choice, so count rather than index.
      const traps = (envoy.logs().match(/proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/g) ?? []).length;
      expect(traps).toBeGreaterThanOrEqual(1);
      expect(traps).toBeLessThanOrEqual(2);
      if (policy === 'closed') {
        expect(seen.every((s) => s === 503)).toBe(true);
        expect(upstream.seen).toHaveLength(0);
      } else {
        expect(seen.filter((s) => s === 503)).toHaveLength(traps);
        expect(seen.filter((s) => s === 200)).toHaveLength(12 - traps);
        expect(upstream.seen).toHaveLength(12 - traps);
      }
      const blocked = await send(envoy.url, '/after');
      expect(blocked.status).toBe(expectAfter);
      if (expectAfter === 503) expect(blocked.body).toBe('');
    });
  });
}

for (const launcher of found) {
  trapSuite(launcher, 'closed', 503);
  trapSuite(launcher, 'open', 200);
}

describe.skipIf(found.every((l) => l.name !== 'process'))('a plugin configuration the filter refuses (Envoy binary)', () => {
  let upstream: Upstream;
  beforeAll(async () => { upstream = await Upstream.start(); });
  afterAll(async () => { await upstream?.close(); });

  it.each(['closed', 'open'] as const)('--fail-policy %s: Envoy does not start (exit 1, "Unable to create Wasm plugin")', async (policy) => {
    const dir = mkdtempSync(join(tmpdir(), 'sergo-envoy-refused-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    const out = join(dir, 'bootstrap.yaml');
    const run = await runSergo(['translate', join(dir, 'rules.yaml'), '--format', 'envoy', '--upstream', `http://127.0.0.1:${upstream.port}`,
      '--listen', `127.0.0.1:${await freePort()}`, '--admin', `127.0.0.1:${await freePort()}`, '--module', join(repoRoot, 'build', 'sergo.wasm'),
      '--fail-policy', policy, '-o', out]);
    expect(run.code).toBe(0);
    // The emitted bootstrap with one change: a configuration version the filter does not understand.
    const bootstrap = parseYaml(readFileSync(out, 'utf8'));
    const plugin = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
    expect(plugin.failure_policy).toBe(policy === 'open' ? 'FAIL_OPEN' : 'FAIL_CLOSED');
    plugin.configuration.value = '{"version":99,"rules":[]}';
    writeFileSync(out, stringify(bootstrap));

    const { code, stderr } = await runEnvoyToExit(envoyBinary().path!, out);
    expect(code).toBe(1);
    expect(stderr).toContain('sergo: configuration rejected: version: must be 1');
    expect(stderr).toContain('Unable to create Wasm plugin sergo');
  });
});

function runEnvoyToExit(envoy: string, bootstrap: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(envoy, ['-c', bootstrap, '--concurrency', '2', '--disable-hot-restart', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`envoy kept running with a refused configuration:\n${stderr}`)); }, 30_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
}
