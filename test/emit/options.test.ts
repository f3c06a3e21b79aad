// The filter's `options` are emittable: `sergo translate --max-queued-per-vm N --cas-retries N
// --on-cas-exhausted block|allow` (every format) writes them, checked against src/ir/limits.ts, and
// the filter (build/sergo.wasm in src/host) runs by them.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compileModule, ManualClock, ProxyWasmHost } from '../../src/host/index.ts';
import { lines } from '../support/cli.ts';
import { join, rule, throttling } from '../support/documents.ts';
import { repoRoot } from '../support/paths.ts';
import { schemaErrors } from '../support/schema.ts';
import { writeFiles } from '../support/workspace.ts';
import { sergo } from './helpers.ts';

const files = writeFiles({ 'paced.yaml': join(throttling('pace', "minIntervalOfRequests: '10s'\nqueueTimeout: '60s'"), rule('r', 'shop', ['/pace'], ['pace'])) });
const paced = files['paced.yaml']!;

/** What the filter answers to `n` requests at once on /pace (one VM). */
function actions(configuration: string, n: number): { actions: string[]; overflow: bigint | undefined } {
  const module = compileModule(readFileSync(resolve(repoRoot, 'build/sergo.wasm')));
  const host = new ProxyWasmHost({ module, vms: 1, rootId: 'sergo', clock: new ManualClock(), configuration });
  expect(host.start()).toBe(true);
  const headers: Array<[string, string]> = [[':method', 'GET'], [':path', '/pace'], [':authority', 'svc'], [':scheme', 'http']];
  const out = Array.from({ length: n }, () => host.stream().requestHeaders(headers).action);
  const overflow = host.metric('sergo.queue_overflow');
  host.close();
  return { actions: out, overflow };
}

describe('the filter options', () => {
  it('are written after the version, in a fixed order, only when given; the schema accepts them', async () => {
    const plain = await sergo('translate', paced);
    expect(Object.keys(JSON.parse(plain.stdout))).toEqual(['version', 'rules']);
    const run = await sergo('translate', paced, '--on-cas-exhausted', 'allow', '--cas-retries', '3', '--max-queued-per-vm', '2');
    expect(run.stderr).toBe('');
    const config = JSON.parse(run.stdout);
    expect(Object.keys(config)).toEqual(['version', 'options', 'rules']);
    expect(config.options).toEqual({ maxQueuedPerVm: 2, casRetries: 3, onCasExhausted: 'allow' });
    expect(schemaErrors(config)).toEqual([]);
  });

  it('travel in every format', async () => {
    const istio = parseYaml((await sergo('translate', paced, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--cas-retries', '7')).stdout);
    expect(istio.spec.pluginConfig.options).toEqual({ casRetries: 7 });
    const envoy = parseYaml((await sergo('translate', paced, '--format', 'envoy', '--upstream', 'http://shop:80', '--max-queued-per-vm', '0')).stdout);
    const plugin = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
    expect(JSON.parse(plugin.configuration.value).options).toEqual({ maxQueuedPerVm: 0 });
  });

  it('the filter runs by them: --max-queued-per-vm 2 sends the third waiting request to the fallback', async () => {
    const bounded = (await sergo('translate', paced, '--max-queued-per-vm', '2')).stdout;
    expect(actions(bounded, 4)).toEqual({ actions: ['continue', 'pause', 'pause', 'local-response'], overflow: 1n });
    const unbounded = (await sergo('translate', paced)).stdout;
    expect(actions(unbounded, 4)).toEqual({ actions: ['continue', 'pause', 'pause', 'pause'], overflow: 0n });
  });

  it.each([
    [['--cas-retries', '0'], 'sergo: --cas-retries: "0" is not an integer in 1..1000'],
    [['--cas-retries', '1001'], 'sergo: --cas-retries: "1001" is not an integer in 1..1000'],
    [['--max-queued-per-vm', '1000001'], 'sergo: --max-queued-per-vm: "1000001" is not an integer in 0..1000000'],
    [['--max-queued-per-vm', '-1'], 'sergo: --max-queued-per-vm: "-1" is not an integer in 0..1000000'],
    [['--max-queued-per-vm', '2.5'], 'sergo: --max-queued-per-vm: "2.5" is not an integer in 0..1000000'],
  ])('refuses %j before reading any file (exit 2)', async (args, message) => {
    const run = await sergo('translate', 'does-not-exist.yaml', ...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual([message]);
  });

  it('--on-cas-exhausted takes block or allow only', async () => {
    const run = await sergo('translate', paced, '--on-cas-exhausted', 'sometimes');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--on-cas-exhausted <decision>' argument 'sometimes' is invalid\. Allowed choices are block, allow/);
  });
});
