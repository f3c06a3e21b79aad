// A deployment delivered over ECDS (`sergo xds`, docs/xds.md): the resource its Envoys subscribe to
// and what their filter runs before the first answer. Shared by the bootstrap's `--xds` form
// (src/emit/envoy.ts) and the server (src/xds), so both name a deployment the same way.
//
// The sergo HTTP filter in the bootstrap is named `sergo/<namespace>/<app>`, and over ECDS an HTTP
// filter's name is the resource Envoy subscribes to. Namespaces are DNS labels and app labels hold no
// `/`, so the name splits back unambiguously.
import type { Deployment } from '../ir/model.ts';
import { FILTER_CONFIG_VERSION, type FilterConfig } from './filter.ts';
import type { FailPolicy } from './wasm-plugin.ts';

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

/** The deployment's key; undefined when it has no app or spans several namespaces (no one resource). */
export function deploymentKey(deployment: Deployment): AppKey | undefined {
  const { app, namespace } = deployment;
  return app === undefined || namespace === undefined ? undefined : { namespace, app };
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
