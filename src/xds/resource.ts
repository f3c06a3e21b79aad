// What `sergo xds` serves and how Envoy names it.
//
// Resource names select the rules: the sergo HTTP filter in an Envoy's bootstrap is named
// `sergo/<namespace>/<app>` (`sergo translate --format envoy --xds` writes it), and over ECDS an HTTP
// filter's name is the resource Envoy subscribes to. So one server serves every app, and each Envoy
// gets the rules of the app its bootstrap names. Namespaces are DNS labels and app labels hold no
// `/`, so the name splits back unambiguously.
//
// The resource is an envoy.config.core.v3.TypedExtensionConfig whose typed_config is the Wasm HTTP
// filter, with the same PluginConfig the static bootstrap carries (src/emit/envoy.ts).
import { createHash } from 'node:crypto';
import { WASM_FILTER_TYPE, wasmPluginConfig, type FailPolicy, type WasmCode } from '../emit/envoy.ts';
import { FILTER_CONFIG_VERSION, type FilterConfig } from '../emit/filter.ts';
import { TYPED_EXTENSION_CONFIG_TYPE, type AnyObject } from './protos.ts';

export const RESOURCE_PREFIX = 'sergo';

export interface AppKey {
  namespace: string;
  app: string;
}

export function resourceName(key: AppKey): string {
  return `${RESOURCE_PREFIX}/${key.namespace}/${key.app}`;
}

/** `sergo/<namespace>/<app>` → its parts; undefined for any other name. */
export function parseResourceName(name: string): AppKey | undefined {
  const parts = name.split('/');
  if (parts.length !== 3 || parts[0] !== RESOURCE_PREFIX || parts[1] === '' || parts[2] === '') return undefined;
  return { namespace: parts[1]!, app: parts[2]! };
}

/** The id of the rule that blocks everything before the first answer under `--fail-policy closed`. */
export const WAITING_RULE_ID = 'sergo/xds/waiting-for-the-control-plane';

/**
 * What the filter runs before `sergo xds` first answers (the bootstrap's default_config): under
 * `closed` every request is answered 503 (a threshold-0 limit on every path), under `open` no rule
 * applies. Either way the module is loaded, so a later push only swaps the plugin configuration.
 */
export function waitingConfig(failPolicy: FailPolicy): FilterConfig {
  if (failPolicy === 'open') return { version: FILTER_CONFIG_VERSION, rules: [] };
  return {
    version: FILTER_CONFIG_VERSION,
    rules: [{
      id: WAITING_RULE_ID,
      resource: '/**',
      strategy: { kind: 'RateLimit', threshold: 0, windowMs: 1000 },
      fallback: { status: 503, body: 'sergo: no rules from the control plane yet\n' },
    }],
  };
}

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
