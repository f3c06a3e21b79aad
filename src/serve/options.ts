// What `sergo serve` is asked to do, checked before anything starts: every problem in the options
// is reported at once (one ServeError), then the addresses are parsed, the rule source described
// and the module compiled.
import { readFileSync } from 'node:fs';
import { compileModule } from '../host/index.ts';
import { SERGO_WASM_PATH } from '../module-path.ts';
import { parseListen, parseServiceUrl, type ListenAddress } from './address.ts';
import type { BreakerTransition } from './breakers.ts';
import type { Logger, LogLevel } from './log.ts';
import type { RuleSource } from './rules.ts';

export const DEFAULT_MODULE = SERGO_WASM_PATH;

export interface ServeOptions {
  /** OpenSergo rule files (YAML/JSON); or `config` */
  rules?: readonly string[];
  /** a filter configuration JSON file, as `sergo translate` prints it (instead of `rules`) */
  config?: string;
  /** http://HOST[:PORT] of the service behind the proxy */
  upstream: string;
  /** HOST:PORT, default 0.0.0.0:10000 (port 0: any free port) */
  listen?: string;
  /** HOST:PORT of the admin endpoints, default 127.0.0.1:9901 */
  admin?: string;
  /** worker VMs, default 2 */
  vms?: number;
  app?: string;
  namespace?: string;
  /** error | warn | info | debug, default info */
  logLevel?: LogLevel;
  /** URL of the rate-limit service for limitMode Global rules (HTTP/JSON, e.g. `sergo rls`) */
  rls?: string;
  /** rate-limit domain of Global rules translated from --rules (default sergo) */
  rlsDomain?: string;
  /** deadline of one rate-limit call of Global rules translated from --rules (default 20 ms) */
  rlsTimeoutMs?: number;
  /** upstream request timeout, default 15000 ms (→ 504) */
  upstreamTimeoutMs?: number;
  /** when a VM fails: 'closed' (503, default) or 'open' (skip the filter) */
  failPolicy?: 'open' | 'closed';
  /** the module: a path (default build/sergo.wasm) or a compiled module */
  module?: string | WebAssembly.Module;
  /** serve (and reload to) a configuration without rules; default false: refused, the previous rules keep serving */
  allowEmpty?: boolean;
  /** watch the rule files and reload on change, default true */
  watch?: boolean;
  reloadDebounceMs?: number;
  /** how long close() waits for requests in flight, default 10000 ms */
  shutdownGraceMs?: number;
  /** where log lines go (default stderr); or pass a whole `logger` */
  write?: (line: string) => void;
  logger?: Logger;
  onTransition?: (t: BreakerTransition) => void;
}

export class ServeError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** The options, checked and parsed. */
export interface ServeSettings {
  upstream: URL;
  listen: ListenAddress;
  admin: ListenAddress;
  rls: URL | undefined;
  vms: number;
  upstreamTimeoutMs: number;
  source: RuleSource;
}

/** Throws a ServeError listing every problem. */
export function resolveSettings(opts: ServeOptions): ServeSettings {
  const problems: string[] = [];
  const check = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (err) {
      problems.push(`sergo serve: ${(err as Error).message}`);
      return undefined;
    }
  };
  if ((opts.rules === undefined || opts.rules.length === 0) === (opts.config === undefined)) problems.push('sergo serve: give either rule files (--rules) or a filter configuration (--config)');
  if (opts.rules?.includes('-') === true) problems.push('sergo serve: --rules -: standard input cannot be watched or reloaded; give files or directories');
  const upstream = check(() => parseServiceUrl(opts.upstream, 'upstream'));
  const listen = check(() => parseListen(opts.listen ?? '0.0.0.0:10000', 'listen address'));
  const admin = check(() => parseListen(opts.admin ?? '127.0.0.1:9901', 'admin address'));
  const rls = opts.rls === undefined ? undefined : check(() => parseServiceUrl(opts.rls!, 'rate-limit service'));
  const vms = opts.vms ?? 2;
  if (!Number.isInteger(vms) || vms < 1 || vms > 256) problems.push(`sergo serve: vms: expected an integer from 1 to 256, got ${vms}`);
  const upstreamTimeoutMs = opts.upstreamTimeoutMs ?? 15_000;
  if (!(upstreamTimeoutMs > 0)) problems.push(`sergo serve: upstream timeout: expected a positive number of ms, got ${upstreamTimeoutMs}`);
  if (problems.length > 0) throw new ServeError(problems);
  const source: RuleSource = {
    rules: opts.rules,
    config: opts.config,
    app: opts.app,
    namespace: opts.namespace,
    rls,
    rlsDomain: opts.rlsDomain,
    rlsTimeoutMs: opts.rlsTimeoutMs,
    allowEmpty: opts.allowEmpty === true,
  };
  return { upstream: upstream!, listen: listen!, admin: admin!, rls, vms, upstreamTimeoutMs, source };
}

/** The module given, or the one at its path (default build/sergo.wasm), compiled and checked. */
export function loadModule(module: string | WebAssembly.Module | undefined): WebAssembly.Module {
  if (module !== undefined && typeof module !== 'string') return module;
  const path = module ?? DEFAULT_MODULE;
  try {
    return compileModule(readFileSync(path));
  } catch (err) {
    const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (run `npm run build` first)' : '';
    throw new ServeError([`sergo serve: ${path}: ${(err as Error).message}${hint}`]);
  }
}
