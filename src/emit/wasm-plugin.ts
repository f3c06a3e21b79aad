// The Wasm PluginConfig that carries the filter configuration, and the names Envoy and the module
// agree on (root_id `sergo`): shared by every Envoy-facing target (the bootstrap and its ECDS form,
// the EnvoyFilter, the resources `sergo xds` serves; Istio's WasmPlugin names the root id).
import { renderFilterConfig, type FilterConfig } from './filter.ts';

export const PLUGIN_NAME = 'sergo';
export const ROOT_ID = 'sergo';
export const VM_ID = 'sergo';
export const V8_RUNTIME = 'envoy.wasm.runtime.v8';
export const DEFAULT_MODULE_PATH = '/etc/envoy/sergo.wasm';

export const WASM_FILTER_NAME = 'envoy.filters.http.wasm';
export const WASM_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
export const STRING_VALUE_TYPE = 'type.googleapis.com/google.protobuf.StringValue';

/** What happens to requests when the module fails: rejected (closed) or the filter skipped (open). */
export type FailPolicy = 'closed' | 'open';

export type WasmCode =
  | { local: { filename: string } }
  | { remote: { http_uri: { uri: string; cluster: string; timeout: string }; sha256: string } };

/** envoy.extensions.wasm.v3.PluginConfig. */
export interface WasmPluginConfig {
  name: string;
  root_id: string;
  vm_config: { vm_id: string; runtime: string; code: WasmCode };
  configuration: { '@type': typeof STRING_VALUE_TYPE; value: string };
  /** Envoy ≥ 1.33. */
  failure_policy?: 'FAIL_CLOSED' | 'FAIL_OPEN';
  /** Deprecated in Envoy 1.33, the only field older proxies know. */
  fail_open?: boolean;
}

export interface WasmFilter {
  '@type': typeof WASM_FILTER_TYPE;
  config: WasmPluginConfig;
}

/**
 * The Wasm PluginConfig carrying the filter configuration as a StringValue (the filter reads it raw in
 * on_configure). `failField` picks `failure_policy` (Envoy ≥ 1.33) or the deprecated `fail_open`
 * (what older proxies understand).
 */
export function wasmPluginConfig(
  config: FilterConfig,
  code: WasmCode,
  failPolicy: FailPolicy,
  failField: 'failure_policy' | 'fail_open' = 'failure_policy',
): WasmPluginConfig {
  const plugin: WasmPluginConfig = {
    name: PLUGIN_NAME,
    root_id: ROOT_ID,
    vm_config: { vm_id: VM_ID, runtime: V8_RUNTIME, code },
    configuration: { '@type': STRING_VALUE_TYPE, value: renderFilterConfig(config) },
  };
  if (failField === 'failure_policy') plugin.failure_policy = failPolicy === 'open' ? 'FAIL_OPEN' : 'FAIL_CLOSED';
  else plugin.fail_open = failPolicy === 'open';
  return plugin;
}
