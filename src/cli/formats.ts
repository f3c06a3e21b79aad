// `sergo translate --format filter|envoy|istio|envoyfilter` and the flags of each format: definition,
// checking (before any file is read), and rendering of the translated configuration.
// Each flag belongs to the formats listed in FLAG_FORMATS; giving it with another format is an error,
// so that a typo'd or misplaced flag never silently does nothing.
import { Option, type Command } from 'commander';
import { parseBindAddress, parseModuleUrl, parseRlsUrl, parseServerAddress, parseSha256, parseUpstreamUrl, type HostPort } from '../address.ts';
import {
  DEFAULT_ADMIN,
  DEFAULT_LISTEN,
  DEFAULT_MODULE_PATH,
  emitEnvoyBootstrap,
  renderEnvoyBootstrap,
  UPSTREAM_CLUSTER,
  UPSTREAM_PROTOCOLS,
  type UpstreamProtocol,
  type EnvoyBootstrapOptions,
  type FailPolicy,
  type WasmCode,
  type XdsBootstrapOptions,
} from '../emit/envoy.ts';
import { emitEnvoyFilter, localCode, remoteCode, renderEnvoyFilter, type EnvoyFilterOptions } from '../emit/envoyfilter.ts';
import {
  DEFAULT_RLS_CLUSTER,
  DEFAULT_RLS_DOMAIN,
  DEFAULT_RLS_TIMEOUT_MS,
  hasGlobalRules,
  renderFilterConfig,
  type FilterConfig,
  type RateLimitServiceOptions,
} from '../emit/filter.ts';
import {
  defaultPluginUrl,
  defaultResourceName,
  emitWasmPlugin,
  isDnsSubdomain,
  istioClusterHostProblem,
  istioServiceCluster,
  PHASES,
  renderWasmPlugin,
  ruleNamespaces,
  TRAFFIC,
  type Phase,
  type Traffic,
  type WasmPluginOptions,
} from '../emit/istio.ts';
import { resourceName, waitingConfig } from '../xds/resource.ts';
import { isIntegerIn, LIMITS, PRINTABLE_ASCII } from '../ir/limits.ts';
import { packageVersion } from '../version.ts';

export const FORMATS = ['filter', 'envoy', 'istio', 'envoyfilter'] as const;
export type Format = (typeof FORMATS)[number];

/** The format flags as commander hands them over (undefined when not given). */
export interface FormatFlags {
  format: Format;
  listen?: string;
  admin?: string;
  upstream?: string;
  upstreamTimeout?: string;
  upstreamProtocol?: UpstreamProtocol;
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
    .addOption(new Option('--xds <host:port>', 'envoy: take the sergo filter\'s rules from `sergo xds` at HOST:PORT over ECDS, live (docs/xds.md)'))
    .addOption(new Option('--listen <host:port>', `envoy: listener address (default ${DEFAULT_LISTEN})`))
    .addOption(new Option('--admin <host:port>', `envoy: admin address (default ${DEFAULT_ADMIN})`))
    .addOption(new Option('--module <path>', `envoy, envoyfilter: the module's path inside the proxy (envoy default ${DEFAULT_MODULE_PATH})`))
    .addOption(new Option('--fail-policy <policy>', 'envoy, istio, envoyfilter: what happens to requests when the module fails (default closed)').choices(['closed', 'open']))
    .addOption(new Option('--name <name>', 'istio, envoyfilter: metadata.name (default sergo-<app>)'))
    .addOption(new Option('--url <url>', `istio, envoyfilter: module location, oci://…, file:///…, http(s)://… (istio default ${defaultPluginUrl(packageVersion())})`))
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

/** The rate-limit service of limitMode Global rules, from the --rls… flags (checked, not yet defaulted). */
export interface RlsPlan {
  /** What the configuration names when some rule is Global (rateLimitService() fills in the rest). */
  service: RateLimitServiceOptions;
  /** --rls: where the envoy format's cluster points. */
  endpoint?: HostPort;
  /** With Global rules, the error when the format needs a flag that was not given. */
  missing?: string;
  /** The --rls… flags given (warned about when no rule is Global). */
  given: string[];
}

/** What to produce, with every flag checked and defaulted. */
export type FormatPlan = FormatTarget & { rls: RlsPlan };

type FormatTarget =
  | { format: 'filter' }
  | { format: 'envoy'; options: EnvoyBootstrapOptions; xdsServer?: HostPort }
  // The emitters' options, less what comes from the rules (namespace, app) and a name made optional.
  | ({ format: 'istio'; name?: string } & Omit<WasmPluginOptions, 'name' | 'namespace' | 'app'>)
  | ({ format: 'envoyfilter'; name?: string } & Omit<EnvoyFilterOptions, 'name' | 'namespace' | 'app'>);

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Checks the flags of the chosen format; errors are complete messages (without the `sergo: ` prefix). */
export function planFormat(flags: FormatFlags): Checked<FormatPlan> {
  const errors: string[] = [];
  for (const key of Object.keys(FLAG_FORMATS) as FlagKey[]) {
    if (flags[key] !== undefined && !FLAG_FORMATS[key].includes(flags.format)) {
      errors.push(`${FLAG_NAMES[key]} does not apply to --format ${flags.format} (only to ${FLAG_FORMATS[key].join(', ')})`);
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const rls = planRls(flags, errors);
  const target = planTarget(flags);
  if (!target.ok) return { ok: false, errors: [...target.errors, ...errors] };
  if (rls === undefined || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { ...target.value, rls } };
}

function planTarget(flags: FormatFlags): Checked<FormatTarget> {
  const errors: string[] = [];
  const failPolicy = flags.failPolicy ?? 'closed';
  const traffic = flags.traffic ?? 'inbound';
  switch (flags.format) {
    case 'filter':
      return { ok: true, value: { format: 'filter' } };
    case 'envoy':
      return planEnvoy(flags, failPolicy);
    case 'istio': {
      const url = flags.url ?? defaultPluginUrl(packageVersion());
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
    case 'envoyfilter': {
      const code = envoyFilterCode(flags, errors);
      if (code === undefined || errors.length > 0) return { ok: false, errors };
      return { ok: true, value: { format: 'envoyfilter', name: flags.name, code, failPolicy, traffic } };
    }
  }
}

/**
 * --rls… flags. In Istio a cluster is named `outbound|PORT||HOST`, so for istio and envoyfilter the
 * cluster and authority come from --rls (explicit --rls-cluster / --rls-authority win); the envoy
 * format builds a cluster named --rls-cluster pointing at --rls.
 */
function planRls(flags: FormatFlags, errors: string[]): RlsPlan | undefined {
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
  const service: RateLimitServiceOptions = { cluster: flags.rlsCluster, authority: flags.rlsAuthority, domain: flags.rlsDomain, timeoutMs };
  let missing: string | undefined;
  const needs = `the rules have limitMode Global, counted by a rate-limit service: --format ${flags.format} needs`;
  switch (flags.format) {
    case 'filter':
      break;
    case 'envoy':
      if (flags.rlsCluster === UPSTREAM_CLUSTER) errors.push(`--rls-cluster: "${UPSTREAM_CLUSTER}" is the cluster requests go to; choose another name`);
      if (endpoint === undefined) missing = `${needs} --rls http://HOST:PORT, the service's HTTP/JSON address (e.g. where \`sergo rls --listen\` listens)`;
      break;
    case 'istio':
    case 'envoyfilter':
      if (endpoint !== undefined) {
        const problem = istioClusterHostProblem(endpoint.host);
        if (problem !== undefined) errors.push(`--rls: ${problem}`);
        service.cluster ??= istioServiceCluster(endpoint);
        service.authority ??= endpoint.host;
      } else if (flags.rlsCluster === undefined) {
        missing = `${needs} --rls http://HOST:PORT, the service as the proxies reach it (Istio names its cluster outbound|PORT||HOST), e.g. http://sergo-rls.sergo-system.svc.cluster.local:8080`;
      }
      break;
  }
  if (errors.length > before) return undefined;
  return { service, endpoint, missing, given };
}

function planEnvoy(flags: FormatFlags, failPolicy: FailPolicy): Checked<FormatTarget> {
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
  return { ok: true, value: { format: 'envoy', options, ...(xds?.ok === true ? { xdsServer: xds.value } : {}) } };
}

function envoyFilterCode(flags: FormatFlags, errors: string[]): WasmCode | undefined {
  if (flags.url !== undefined && flags.module !== undefined) {
    errors.push('--url and --module are alternatives: give one');
    return undefined;
  }
  if (flags.module !== undefined) {
    if (flags.sha256 !== undefined) errors.push('--sha256 applies to a remote --url, not to --module');
    if (!flags.module.startsWith('/')) errors.push(`--module: "${flags.module}" must be an absolute path inside the proxy container`);
    return localCode(flags.module);
  }
  if (flags.url === undefined) {
    errors.push('--format envoyfilter needs the module: --url (oci://, http:// or https:// with --sha256, or file:///path) or --module /path/in/the/proxy');
    return undefined;
  }
  const source = parseModuleUrl(flags.url);
  if (!source.ok) {
    errors.push(`--url: ${source.error}`);
    return undefined;
  }
  if (source.value.scheme === 'file') {
    if (flags.sha256 !== undefined) errors.push('--sha256 applies to a remote --url, not to file://');
    return localCode(source.value.path!);
  }
  const sha256 = checkSha256(flags.sha256, source.value.pinned, errors);
  if (sha256 === undefined) {
    if (errors.length === 0) {
      errors.push(`--url ${source.value.scheme}://… needs --sha256 (Envoy verifies remote modules; \`sergo package\` prints the digests)`);
    }
    return undefined;
  }
  return remoteCode(flags.url, sha256);
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

export interface Translated {
  config: FilterConfig;
  /** The selected app (undefined when the files hold no rule and --app was not given). */
  app?: string;
  /** --namespace: the namespace when the rules give none. */
  namespace: string;
}

/** Renders the translated configuration in the planned format; errors concern the input as a whole. */
export function renderFormat(plan: FormatPlan, input: Translated): Checked<string> {
  if (plan.rls.missing !== undefined && hasGlobalRules(input.config)) return { ok: false, errors: [plan.rls.missing] };
  switch (plan.format) {
    case 'filter':
      return { ok: true, value: renderFilterConfig(input.config) };
    case 'envoy': {
      const options: EnvoyBootstrapOptions = { ...plan.options, rls: plan.rls.endpoint };
      if (plan.xdsServer !== undefined) {
        const xds = xdsOptions(plan.xdsServer, plan.options.failPolicy, input);
        if (!xds.ok) return xds;
        options.xds = xds.value;
      }
      return { ok: true, value: renderEnvoyBootstrap(emitEnvoyBootstrap(input.config, options), options) };
    }
    case 'istio': {
      const target = kubernetesTarget('istio', plan.name, input);
      if (!target.ok) return target;
      const { name, namespace, app } = target.value;
      const manifest = emitWasmPlugin(input.config, {
        name,
        namespace,
        app,
        url: plan.url,
        sha256: plan.sha256,
        phase: plan.phase,
        priority: plan.priority,
        failPolicy: plan.failPolicy,
        traffic: plan.traffic,
      });
      return { ok: true, value: renderWasmPlugin(manifest) };
    }
    case 'envoyfilter': {
      const target = kubernetesTarget('envoyfilter', plan.name, input);
      if (!target.ok) return target;
      const manifest = emitEnvoyFilter(input.config, { ...target.value, code: plan.code, failPolicy: plan.failPolicy, traffic: plan.traffic });
      return { ok: true, value: renderEnvoyFilter(manifest) };
    }
  }
}

/** `--xds`: the ECDS resource of the app (`sergo/<namespace>/<app>`) and what runs before the first answer. */
function xdsOptions(server: HostPort, failPolicy: FailPolicy, input: Translated): Checked<XdsBootstrapOptions> {
  if (input.app === undefined) return { ok: false, errors: ['--xds serves the rules of one app, but the files hold no FaultToleranceRule; name the app with --app'] };
  const namespaces = ruleNamespaces(input.config);
  if (namespaces.length > 1) {
    return { ok: false, errors: [`the rules of app ${input.app} are in several namespaces (${namespaces.join(', ')}); with --xds an Envoy takes one namespace's rules: translate each namespace's files separately`] };
  }
  const key = { namespace: namespaces[0] ?? input.namespace ?? 'default', app: input.app };
  return {
    ok: true,
    value: { server, resourceName: resourceName(key), defaultConfig: waitingConfig(failPolicy), node: { id: `${key.app}.${key.namespace}`, cluster: key.app } },
  };
}

/** Name, namespace and app of a Kubernetes manifest that selects the app's pods. */
function kubernetesTarget(format: Format, nameFlag: string | undefined, input: Translated): Checked<{ name: string; namespace: string; app: string }> {
  const errors: string[] = [];
  if (input.app === undefined) {
    return { ok: false, errors: [`--format ${format} selects the pods of one app, but the files hold no FaultToleranceRule; name the app with --app`] };
  }
  const namespaces = ruleNamespaces(input.config);
  if (namespaces.length > 1) {
    errors.push(
      `the rules of app ${input.app} are in several namespaces (${namespaces.join(', ')}); a ${format === 'istio' ? 'WasmPlugin' : 'EnvoyFilter'} applies in one namespace: translate each namespace's files separately`,
    );
  }
  const name = nameFlag ?? defaultResourceName(input.app);
  if (!isDnsSubdomain(name)) {
    errors.push(
      nameFlag === undefined
        ? `the default name "${name}" is not a valid Kubernetes name (lower-case RFC 1123 subdomain); choose one with --name`
        : `--name: "${name}" is not a valid Kubernetes name (lower-case RFC 1123 subdomain)`,
    );
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { name, namespace: namespaces[0] ?? input.namespace, app: input.app } };
}
