// What `sergo xds` serves and how Envoy names it.
//
// Resource names select the rules: the sergo HTTP filter in an Envoy's bootstrap is named
// `sergo/<namespace>/<app>` (`sergo translate --format envoy --xds` writes it), and over ECDS an HTTP
// filter's name is the resource Envoy subscribes to. So one server serves every app, and each Envoy
// gets the rules of the app its bootstrap names. The names and the configuration run before the
// first answer are the emitter's (src/emit/ecds.ts), so the bootstrap and the server agree.
//
// The resource is an envoy.config.core.v3.TypedExtensionConfig whose typed_config is the Wasm HTTP
// filter, with the same PluginConfig the static bootstrap carries (src/emit/wasm-plugin.ts).
import { createHash } from 'node:crypto';
import type { FilterConfig } from '../emit/filter.ts';
import { WASM_FILTER_TYPE, wasmPluginConfig, type FailPolicy, type WasmCode } from '../emit/wasm-plugin.ts';
import { TYPED_EXTENSION_CONFIG_TYPE, type AnyObject } from './protos.ts';

export { parseResourceName, RESOURCE_PREFIX, resourceName, WAITING_RULE_ID, waitingConfig, type AppKey } from '../emit/ecds.ts';

/** The TypedExtensionConfig for `name` (an Any in the form protos.ts packs). */
export function extensionConfig(name: string, config: FilterConfig, code: WasmCode, failPolicy: FailPolicy): AnyObject {
  return {
    '@type': TYPED_EXTENSION_CONFIG_TYPE,
    name,
    typed_config: { '@type': WASM_FILTER_TYPE, config: wasmPluginConfig(config, code, failPolicy) },
  };
}

/** A short, content-derived version: equal configurations get equal versions across restarts. */
export function configVersion(config: FilterConfig): string {
  return digest(JSON.stringify(config));
}

export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
