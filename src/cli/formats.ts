// The flags of `sergo translate --format filter|envoy|istio|envoyfilter`: definition and parsing
// (before any file is read) into a TargetPlan. What each target needs and how it is rendered is
// src/emit/targets.ts; here strings become values (src/address.ts parses addresses and URLs).
// Each flag belongs to the formats listed in FLAG_FORMATS; giving it with another format is an error,
// so that a typo'd or misplaced flag never silently does nothing.
import { Option, type Command } from 'commander';
import { parseBindAddress, parseModuleUrl, parseRlsUrl, parseServerAddress, parseSha256, parseUpstreamUrl, type HostPort } from '../address.ts';
import { DEFAULT_ADMIN, DEFAULT_LISTEN, UPSTREAM_PROTOCOLS, type EnvoyBootstrapOptions, type UpstreamProtocol } from '../emit/envoy.ts';
import { PHASES, TRAFFIC, type Phase, type Traffic } from '../emit/istio.ts';
import {
  FORMATS,
  moduleCode,
  planService,
  type Checked,
  type Format,
  type ModuleSource,
  type ServicePlan,
  type TargetPlan,
} from '../emit/targets.ts';
import { DEFAULT_MODULE_PATH, type FailPolicy, type WasmCode } from '../emit/wasm-plugin.ts';
import { DEFAULT_RLS_CLUSTER, DEFAULT_RLS_DOMAIN, DEFAULT_RLS_TIMEOUT_MS, type RateLimitServiceOptions } from '../ir/deployment.ts';
import { isIntegerIn, LIMITS, PRINTABLE_ASCII } from '../ir/limits.ts';
import { packageVersion } from '../version.ts';

export { FORMATS, type Checked, type Format } from '../emit/targets.ts';

/** The format flags as commander hands them over (undefined when not given). */
export interface FormatFlags {
  format: Format;
  listen?: string;
  admin?: string;
  upstream?: string;
  upstreamTimeout?: string;
  upstreamProtocol?: UpstreamProtocol;
  endpoints?: string;
  xds?: string;
  module?: string;
  failPolicy?: FailPolicy;
  name?: string;
  url?: string;
  sha256?: string;
  phase?: Phase;
  priority?: string;
  traffic?: Traffic;
  rls?: string;
  rlsCluster?: string;
  rlsAuthority?: string;
  rlsTimeoutMs?: string;
  rlsDomain?: string;
}

type FlagKey = Exclude<keyof FormatFlags, 'format'>;

const FLAG_FORMATS: Record<FlagKey, readonly Format[]> = {
  listen: ['envoy'],
  admin: ['envoy'],
  upstream: ['envoy'],
  upstreamTimeout: ['envoy'],
  upstreamProtocol: ['envoy'],
  endpoints: ['envoy'],
  xds: ['envoy'],
  module: ['envoy', 'envoyfilter'],
  failPolicy: ['envoy', 'istio', 'envoyfilter'],
  name: ['istio', 'envoyfilter'],
  url: ['istio', 'envoyfilter'],
  sha256: ['istio', 'envoyfilter'],
  phase: ['istio'],
  priority: ['istio'],
  traffic: ['istio', 'envoyfilter'],
  rls: ['envoy', 'istio', 'envoyfilter'],
  rlsCluster: FORMATS,
  rlsAuthority: FORMATS,
  rlsTimeoutMs: FORMATS,
  rlsDomain: FORMATS,
};

const FLAG_NAMES: Record<FlagKey, string> = {
  listen: '--listen',
  admin: '--admin',
  upstream: '--upstream',
  upstreamTimeout: '--upstream-timeout',
  upstreamProtocol: '--upstream-protocol',
  endpoints: '--endpoints',
  xds: '--xds',
  module: '--module',
  failPolicy: '--fail-policy',
  name: '--name',
  url: '--url',
  sha256: '--sha256',
  phase: '--phase',
  priority: '--priority',
  traffic: '--traffic',
  rls: '--rls',
  rlsCluster: '--rls-cluster',
  rlsAuthority: '--rls-authority',
  rlsTimeoutMs: '--rls-timeout-ms',
  rlsDomain: '--rls-domain',
};

const RLS_FLAGS = ['rls', 'rlsCluster', 'rlsAuthority', 'rlsTimeoutMs', 'rlsDomain'] as const satisfies readonly FlagKey[];
const MAX_RLS_TIMEOUT_MS = LIMITS.serviceTimeoutMs.max;
const MAX_RLS_TEXT = LIMITS.serviceText.maxLength;

export function addFormatOptions(command: Command): Command {
  return command
    .addOption(new Option('--format <format>', 'output: filter JSON, Envoy bootstrap, Istio WasmPlugin or EnvoyFilter (YAML)').choices(FORMATS).default('filter'))
    .addOption(new Option('--upstream <url>', 'envoy: where requests go, http://HOST:PORT (required)'))
    .addOption(new Option('--upstream-timeout <ms>', 'envoy: the route timeout, no complete upstream response within it → 504 (default: Envoy\'s, 15000)'))
    .addOption(new Option('--upstream-protocol <protocol>', 'envoy: HTTP/1.1 or HTTP/2 (prior knowledge) to the upstream; gRPC needs http2 (default http1)').choices(UPSTREAM_PROTOCOLS))
    .addOption(new Option('--endpoints <file>', 'envoy: the addresses and labels of the hosts TrafficRouters route to (docs/traffic.md; required with routers)'))
    .addOption(new Option('--xds <host:port>', 'envoy: take the sergo filter\'s rules from `sergo xds` at HOST:PORT over ECDS, live (docs/xds.md)'))
    .addOption(new Option('--listen <host:port>', `envoy: listener address (default ${DEFAULT_LISTEN})`))
    .addOption(new Option('--admin <host:port>', `envoy: admin address (default ${DEFAULT_ADMIN})`))
    .addOption(new Option('--module <path>', `envoy, envoyfilter: the module's path inside the proxy (envoy default ${DEFAULT_MODULE_PATH})`))
    .addOption(new Option('--fail-policy <policy>', 'envoy, istio, envoyfilter: what happens to requests when the module fails (default closed)').choices(['closed', 'open']))
    .addOption(new Option('--name <name>', 'istio, envoyfilter: metadata.name (default sergo-<app>)'))
    .addOption(new Option('--url <url>', 'istio (required), envoyfilter: the module\'s location, oci://…, file:///…, http(s)://… (where you published it after `sergo package`: README, Deploy)'))
    .addOption(new Option('--sha256 <digest>', 'istio, envoyfilter: SHA-256 of the module (http/https) or of the image manifest (oci)'))
    .addOption(new Option('--phase <phase>', 'istio: filter chain phase (default: Istio\'s, just before the router)').choices(PHASES))
    .addOption(new Option('--priority <n>', 'istio: order within the phase, higher first'))
    .addOption(new Option('--traffic <traffic>', 'istio, envoyfilter: inbound (sidecar, default) or gateway').choices(TRAFFIC))
    .addOption(new Option('--rls <url>', 'envoy, istio, envoyfilter: the rate-limit service of limitMode Global rules, http://HOST:PORT of its HTTP/JSON endpoint (required with Global rules)'))
    .addOption(new Option('--rls-cluster <name>', `Global rules: the rate-limit service's Envoy cluster (default ${DEFAULT_RLS_CLUSTER}; istio, envoyfilter: outbound|PORT||HOST of --rls)`))
    .addOption(new Option('--rls-authority <host>', 'Global rules: :authority of the calls (default: the cluster name; istio, envoyfilter: the host of --rls)'))
    .addOption(new Option('--rls-timeout-ms <ms>', `Global rules: timeout of one call to the service, ${LIMITS.serviceTimeoutMs.min}..${MAX_RLS_TIMEOUT_MS} (default ${DEFAULT_RLS_TIMEOUT_MS})`))
    .addOption(new Option('--rls-domain <domain>', `Global rules: the rate-limit domain (default ${DEFAULT_RLS_DOMAIN})`));
}

/** The --rls… flags given (warned about when no rule is Global), with the service they describe. */
export interface RlsPlan extends ServicePlan {
  given: string[];
}

/** What to produce, with every flag checked and defaulted. */
export type FormatPlan = TargetPlan & { rls: RlsPlan };

/** Checks the flags of the chosen format; errors are complete messages (without the `sergo: ` prefix). */
export function planFormat(flags: FormatFlags): Checked<FormatPlan> {
  const errors: string[] = [];
  for (const key of Object.keys(FLAG_FORMATS) as FlagKey[]) {
    if (flags[key] !== undefined && !FLAG_FORMATS[key].includes(flags.format)) {
      errors.push(`${FLAG_NAMES[key]} does not apply to --format ${flags.format} (only to ${FLAG_FORMATS[key].join(', ')})`);
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const rls = parseRls(flags, errors);
  const target = parseTarget(flags);
  if (!target.ok) return { ok: false, errors: [...target.errors, ...errors] };
  if (rls === undefined || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { ...target.value, rls } };
}

function parseTarget(flags: FormatFlags): Checked<TargetPlan> {
  const failPolicy = flags.failPolicy ?? 'closed';
  const traffic = flags.traffic ?? 'inbound';
  switch (flags.format) {
    case 'filter':
      return { ok: true, value: { format: 'filter' } };
    case 'envoy':
      return parseEnvoy(flags, failPolicy);
    case 'istio':
      return parseIstio(flags, failPolicy, traffic);
    case 'envoyfilter': {
      const errors: string[] = [];
      const code = envoyFilterCode(flags, errors);
      if (code === undefined || errors.length > 0) return { ok: false, errors };
      return { ok: true, value: { format: 'envoyfilter', name: flags.name, code, failPolicy, traffic } };
    }
  }
}

function parseIstio(flags: FormatFlags, failPolicy: FailPolicy, traffic: Traffic): Checked<TargetPlan> {
  const errors: string[] = [];
  // No default: an image the user never published would fail in every sidecar, not here.
  if (flags.url === undefined) {
    return { ok: false, errors: [`--format istio needs --url: where the proxies fetch the module, e.g. oci://REGISTRY/sergo-wasm:${packageVersion()} after \`sergo package\` and a push (README, Deploy)`] };
  }
  const url = flags.url;
  const source = parseModuleUrl(url);
  if (!source.ok) errors.push(`--url: ${source.error}`);
  const sha256 = checkSha256(flags.sha256, source.ok ? source.value.pinned : undefined, errors);
  const priority = flags.priority === undefined ? undefined : parseInt32(flags.priority);
  if (priority === null) errors.push(`--priority: "${flags.priority}" is not an integer in -2147483648..2147483647`);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { format: 'istio', name: flags.name, url, sha256, phase: flags.phase, priority: priority ?? undefined, failPolicy, traffic },
  };
}

/** --rls…: the given values, checked, and what the format makes of them (src/emit/targets.ts). */
function parseRls(flags: FormatFlags, errors: string[]): RlsPlan | undefined {
  const before = errors.length;
  const given = RLS_FLAGS.filter((key) => flags[key] !== undefined).map((key) => FLAG_NAMES[key]);
  for (const key of ['rlsCluster', 'rlsAuthority', 'rlsDomain'] as const) {
    const value = flags[key];
    // Cluster, authority and domain: printable ASCII without spaces, as the filter sends them.
    if (value !== undefined && (!PRINTABLE_ASCII.test(value) || value.length > MAX_RLS_TEXT)) {
      errors.push(`${FLAG_NAMES[key]}: "${value}" must be 1 to ${MAX_RLS_TEXT} printable ASCII characters without spaces`);
    }
  }
  let timeoutMs: number | undefined;
  if (flags.rlsTimeoutMs !== undefined) {
    timeoutMs = /^\d{1,6}$/.test(flags.rlsTimeoutMs) ? Number(flags.rlsTimeoutMs) : NaN;
    if (!isIntegerIn(timeoutMs, LIMITS.serviceTimeoutMs)) {
      errors.push(`--rls-timeout-ms: "${flags.rlsTimeoutMs}" is not an integer in ${LIMITS.serviceTimeoutMs.min}..${MAX_RLS_TIMEOUT_MS} (milliseconds)`);
    }
  }
  let endpoint: HostPort | undefined;
  if (flags.rls !== undefined) {
    const parsed = parseRlsUrl(flags.rls);
    if (parsed.ok) endpoint = parsed.value;
    else errors.push(`--rls: ${parsed.error}`);
  }
  const service: RateLimitServiceOptions = { cluster: flags.rlsCluster, authority: flags.rlsAuthority, domain: flags.rlsDomain, timeoutMs, endpoint };
  const plan = planService(flags.format, service, errors);
  return errors.length > before ? undefined : { ...plan, given };
}

function parseEnvoy(flags: FormatFlags, failPolicy: FailPolicy): Checked<TargetPlan> {
  const errors: string[] = [];
  const listen = parseBindAddress(flags.listen ?? DEFAULT_LISTEN);
  if (!listen.ok) errors.push(`--listen: ${listen.error}`);
  const admin = parseBindAddress(flags.admin ?? DEFAULT_ADMIN);
  if (!admin.ok) errors.push(`--admin: ${admin.error}`);
  const upstream = flags.upstream === undefined ? undefined : parseUpstreamUrl(flags.upstream);
  if (upstream === undefined) errors.push('--format envoy needs --upstream http://HOST:PORT (where Envoy sends the requests)');
  else if (!upstream.ok) errors.push(`--upstream: ${upstream.error}`);
  const upstreamTimeoutMs = flags.upstreamTimeout === undefined ? undefined : Number(flags.upstreamTimeout);
  // As `sergo serve --upstream-timeout`: a positive number of milliseconds.
  if (flags.upstreamTimeout !== undefined && !/^[1-9][0-9]{0,8}$/.test(flags.upstreamTimeout)) {
    errors.push(`--upstream-timeout: "${flags.upstreamTimeout}" is not a positive integer of at most 9 digits (milliseconds)`);
  }
  const modulePath = flags.module ?? DEFAULT_MODULE_PATH;
  if (modulePath.trim() === '') errors.push('--module: the path is empty');
  const xds = flags.xds === undefined ? undefined : parseServerAddress(flags.xds);
  if (xds !== undefined && !xds.ok) errors.push(`--xds: ${xds.error}`);
  if (!listen.ok || !admin.ok || upstream === undefined || !upstream.ok || errors.length > 0) return { ok: false, errors };
  const options: EnvoyBootstrapOptions = { listen: listen.value, admin: admin.value, upstream: upstream.value, modulePath, failPolicy };
  if (upstreamTimeoutMs !== undefined) options.upstreamTimeoutMs = upstreamTimeoutMs;
  if (flags.upstreamProtocol !== undefined) options.upstreamProtocol = flags.upstreamProtocol;
  if (xds?.ok === true) options.xds = { server: xds.value };
  return { ok: true, value: { format: 'envoy', options } };
}

/** --url / --module / --sha256 of an EnvoyFilter → the module's code (src/emit/targets.ts: moduleCode). */
function envoyFilterCode(flags: FormatFlags, errors: string[]): WasmCode | undefined {
  const source = moduleSource(flags, errors);
  if (source === undefined) return undefined;
  const code = moduleCode(source);
  if (!code.ok) errors.push(...code.errors);
  return code.ok ? code.value : undefined;
}

function moduleSource(flags: FormatFlags, errors: string[]): ModuleSource | undefined {
  if (flags.url !== undefined && flags.module !== undefined) {
    errors.push('--url and --module are alternatives: give one');
    return undefined;
  }
  if (flags.module !== undefined) {
    if (flags.sha256 !== undefined) errors.push('--sha256 applies to a remote --url, not to --module');
    if (!flags.module.startsWith('/')) errors.push(`--module: "${flags.module}" must be an absolute path inside the proxy container`);
    return { path: flags.module };
  }
  if (flags.url === undefined) {
    errors.push('--format envoyfilter needs the module: --url (oci://, http:// or https:// with --sha256, or file:///path) or --module /path/in/the/proxy');
    return undefined;
  }
  const url = parseModuleUrl(flags.url);
  if (!url.ok) {
    errors.push(`--url: ${url.error}`);
    return undefined;
  }
  if (url.value.scheme === 'file') {
    if (flags.sha256 !== undefined) errors.push('--sha256 applies to a remote --url, not to file://');
    return { url: url.value };
  }
  const sha256 = checkSha256(flags.sha256, url.value.pinned, errors);
  return sha256 === undefined ? (errors.length > 0 ? undefined : { url: url.value }) : { url: url.value, sha256 };
}

/** --sha256 (normalized), or the digest pinned in the URL; both must agree. */
function checkSha256(flag: string | undefined, pinned: string | undefined, errors: string[]): string | undefined {
  if (flag === undefined) return pinned;
  const parsed = parseSha256(flag);
  if (!parsed.ok) {
    errors.push(`--sha256: ${parsed.error}`);
    return undefined;
  }
  if (pinned !== undefined && pinned !== parsed.value) {
    errors.push(`--sha256 ${parsed.value} differs from the digest in --url (@sha256:${pinned})`);
    return undefined;
  }
  return parsed.value;
}

function parseInt32(text: string): number | null {
  if (!/^[-+]?\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n >= -2147483648 && n <= 2147483647 ? n : null;
}
