// Drives build/sergo.wasm through src/host the way Envoy does, for the filter's tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ruleState } from '../support/records.ts';
import { METRICS_FLUSH_MS } from '../../assembly/names.ts';
import { compileModule, ProxyWasmHost, ManualClock, type HostOptions, type HttpStream, type StepResult } from '../../src/host/index.ts';

const root = join(import.meta.dirname, '..', '..');
let cached: WebAssembly.Module | undefined;
/** build/sergo.wasm, or SERGO_TEST_WASM (e.g. another build, to compare behaviours). */
export function sergoModule(): WebAssembly.Module {
  cached ??= compileModule(readFileSync(process.env.SERGO_TEST_WASM ?? join(root, 'build', 'sergo.wasm')));
  return cached;
}

/** A clock start aligned to whole seconds, so window boundaries in tests are exact. */
export const EPOCH_MS = 1_767_225_600_000;

export interface SergoHost { host: ProxyWasmHost; clock: ManualClock; started: boolean }

export function startSergo(config: unknown, opts: Partial<HostOptions> = {}): SergoHost {
  const clock = new ManualClock(EPOCH_MS);
  const host = new ProxyWasmHost({
    module: sergoModule(), vms: 1, rootId: 'sergo', clock,
    configuration: typeof config === 'string' ? config : JSON.stringify(config), ...opts,
  });
  const started = host.start();
  return { host, clock, started };
}

export interface Sent { stream: HttpStream; result: StepResult }

/** Starts a request: context create + request headers. */
export function send(host: ProxyWasmHost, method: string, path: string, vm?: number): Sent {
  const stream = host.stream(vm);
  const result = stream.requestHeaders([[':method', method], [':path', path], [':authority', 'svc'], [':scheme', 'http']]);
  return { stream, result };
}

/** A whole exchange: request, then (if the request went upstream) a response, then log/done/delete. */
export function exchange(host: ProxyWasmHost, method: string, path: string, status = 200, vm?: number): StepResult {
  const { stream, result } = send(host, method, path, vm);
  if (result.action === 'continue') stream.responseHeaders([[':status', String(status)]]);
  stream.finish();
  return result;
}

export function rateLimitRule(id: string, resource: string, threshold: number, windowMs: number, fallback?: unknown) {
  return { id, resource, strategy: { kind: 'RateLimit', threshold, windowMs }, ...(fallback ? { fallback } : {}) };
}

/** The state of the rule with this state key (its section of its resource's shared-data record). */
export function ruleBytes(host: ProxyWasmHost, key: string): Uint8Array | undefined {
  return ruleState(host.sharedData, key);
}

/** Reads a rule's i64 state (concurrency count, throttling last slot). */
export function sharedI64(host: ProxyWasmHost, key: string): bigint | undefined {
  const value = ruleBytes(host, key);
  if (!value) return undefined;
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getBigInt64(0, true);
}

export const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : '');

/** Lets the worker's tick hand the VM's pending request counts to the host (assembly/metrics.ts):
 *  advances the clock by the flush period. */
export function flushMetrics(host: ProxyWasmHost): void {
  host.advance(METRICS_FLUSH_MS);
}

/** The name a rule metric is defined under (tags encoded Istio-style, see README "Metrics"): a
 *  translator's id `ns/app/rule/<kind>Strategy/strategy@resource` gives its names their own tags,
 *  another id is the rule tag whole. */
export function metricName(id: string, resource: string, kind: string, name: string): string {
  const n = /^([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)Strategy\/([^@/]+)@(.*)$/.exec(id);
  if (n === null || n[4] !== kind || n[6] !== resource) {
    return `sergo.sergo_rule=.=${id};.;sergo_resource=.=${resource};.;sergo_strategy=.=${kind};.;${name}`;
  }
  return `sergo.sergo_namespace=.=${n[1]};.;sergo_app=.=${n[2]};.;sergo_rule=.=${n[3]};.;sergo_resource=.=${resource};.;` +
    `sergo_strategy=.=${kind};.;sergo_strategy_name=.=${n[5]};.;${name}`;
}
