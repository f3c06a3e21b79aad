// `sergo controller [flags]`: OpenSergo custom resources in a Kubernetes cluster → an Istio WasmPlugin
// per app (src/controller, docs/controller.md), until SIGINT/SIGTERM (the lease is released).
// `sergo controller crds`: the CustomResourceDefinitions it reads (deploy/crds.yaml).
import { hostname } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { crds } from '../controller/crds.ts';
import { DEFAULT_LEASE, startController, type ControllerOptions } from '../controller/index.ts';
import {
  istioServiceCluster,
  parseModuleUrl,
  parseSha256,
  PHASES,
  TRAFFIC,
  type FailPolicy,
  type Phase,
  type PluginOptions,
  type RateLimitServiceOptions,
  type Traffic,
} from '../controller/translate.ts';
import { LOG_LEVELS, type LogLevel } from '../serve/log.ts';
import { packageVersion } from '../version.ts';
import { EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import type { CliIO } from './io.ts';

export interface ControllerFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  wasmPlugins: boolean;
  url?: string;
  sha256?: string;
  phase?: Phase;
  priority?: number;
  traffic: Traffic;
  failPolicy: FailPolicy;
  xds?: string;
  xdsAdmin: string;
  module?: string;
  rls?: string;
  rlsDomain?: string;
  rlsTimeoutMs?: number;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  renewEveryMs: number;
  renewDeadlineMs: number;
  identity?: string;
  qps: number;
  burst: number;
  admin: string;
  logLevel: LogLevel;
}

export function registerControllerCommand(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('controller')
    .description('watch OpenSergo custom resources in a Kubernetes cluster and write an Istio WasmPlugin per app (and serve them over ECDS with --xds)')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, else the pod\'s ServiceAccount)')
    .option('--context <name>', 'kubeconfig context (default: its current context)')
    .option('--namespace <namespace>', 'watch this namespace only (default: all namespaces)')
    .option('--url <url>', 'the module of the WasmPlugins, oci://…, file:///…, http(s)://… (required unless --no-wasm-plugins; where you pushed it after `sergo package`)')
    .option('--sha256 <digest>', 'SHA-256 of the module (http/https) or of the image manifest (oci)')
    .addOption(new Option('--phase <phase>', 'WasmPlugin phase (default: Istio\'s, just before the router)').choices(PHASES))
    .option('--priority <n>', 'WasmPlugin priority within the phase', integer(-2_147_483_648, 2_147_483_647))
    .addOption(new Option('--traffic <traffic>', 'inbound (sidecars) or gateway').choices(TRAFFIC).default('inbound'))
    .addOption(new Option('--fail-policy <policy>', 'what proxies do with requests when the module fails').choices(['closed', 'open']).default('closed'))
    .option('--no-wasm-plugins', 'write no WasmPlugins (with --xds: plain Envoys only, and limitMode GlobalToLocal is accepted)')
    .option('--xds <host:port>', 'also serve every app\'s configuration to plain Envoys over ECDS at HOST:PORT (docs/xds.md)')
    .option('--xds-admin <host:port>', 'admin address of the ECDS server (/status, /stats/prometheus)', '127.0.0.1:9902')
    .option('--module <path>', 'with --xds: the module\'s path inside the Envoys (default /etc/envoy/sergo.wasm)')
    .option('--rls <url>', 'limitMode Global: the rate-limit service, http://NAME.NAMESPACE.svc.cluster.local:PORT (its HTTP/JSON endpoint)')
    .option('--rls-domain <domain>', 'limitMode Global: the rate-limit domain (default sergo)')
    .option('--rls-timeout-ms <ms>', 'limitMode Global: timeout of one call to the service (default 20)', integer(1, 60_000))
    .option('--no-leader-elect', 'write without a lease (one replica only)')
    .option('--lease-namespace <namespace>', 'namespace of the Lease (default: $POD_NAMESPACE, else sergo-system)', process.env.POD_NAMESPACE ?? 'sergo-system')
    .option('--lease-name <name>', 'name of the Lease', DEFAULT_LEASE.name)
    .option('--lease-duration-ms <ms>', 'a standby takes over after the lease has not been renewed this long', integer(1000, 3_600_000), DEFAULT_LEASE.leaseDurationMs)
    .option('--renew-every-ms <ms>', 'the leader renews the lease this often', integer(100, 3_600_000), DEFAULT_LEASE.renewEveryMs)
    .option('--renew-deadline-ms <ms>', 'the leader stops writing when it could not renew for this long', integer(100, 3_600_000), DEFAULT_LEASE.renewDeadlineMs)
    .option('--identity <id>', 'this replica\'s name in the Lease and User-Agent (default: $POD_NAME, else HOST_RANDOM)', process.env.POD_NAME)
    .option('--qps <n>', 'writes per second to the API server', integer(1, 10_000), 50)
    .option('--burst <n>', 'writes that may go at once after a quiet spell', integer(1, 10_000), 100)
    .option('--admin <host:port>', 'admin address: /metrics, /healthz, /readyz, /status', '127.0.0.1:9090')
    .addOption(new Option('--log-level <level>', 'log verbosity (stderr)').choices(LOG_LEVELS).default('info'))
    .action(async (flags: ControllerFlags) => {
      done(await runController(flags, io));
    });
  command
    .command('crds')
    .description('print the CustomResourceDefinitions of the OpenSergo kinds the controller reads (kubectl apply -f -)')
    .action(() => {
      io.stdout(renderCrds());
      done(EXIT_OK);
    });
}

export function renderCrds(): string {
  const header = '# The OpenSergo kinds sergo-wasm reads, with status subresources: `sergo controller crds`. Do not edit.\n';
  return header + crds().map((c) => `---\n${stringify(c)}`).join('');
}

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^-?\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** The flags as controller options; errors are whole messages. */
export function controllerOptions(flags: ControllerFlags, write: (line: string) => void): { ok: true; options: ControllerOptions } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const plugin = flags.wasmPlugins ? pluginOptions(flags, errors) : undefined;
  if (!flags.wasmPlugins && flags.xds === undefined) errors.push('--no-wasm-plugins without --xds would write and serve nothing');
  if (flags.renewEveryMs >= flags.renewDeadlineMs || flags.renewDeadlineMs >= flags.leaseDurationMs) {
    errors.push('expected --renew-every-ms < --renew-deadline-ms < --lease-duration-ms');
  }
  const rateLimitService = rlsOptions(flags, errors);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    options: {
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      namespace: flags.namespace,
      plugin,
      xds: flags.xds === undefined ? undefined : { listen: flags.xds, admin: flags.xdsAdmin, module: flags.module, failPolicy: flags.failPolicy },
      translate: rateLimitService === undefined ? {} : { rateLimitService },
      leaderElection: flags.leaderElect
        ? { namespace: flags.leaseNamespace, name: flags.leaseName, leaseDurationMs: flags.leaseDurationMs, renewEveryMs: flags.renewEveryMs, renewDeadlineMs: flags.renewDeadlineMs }
        : false,
      identity: flags.identity,
      qps: flags.qps,
      burst: flags.burst,
      admin: flags.admin,
      logLevel: flags.logLevel,
      write,
    },
  };
}

function pluginOptions(flags: ControllerFlags, errors: string[]): PluginOptions | undefined {
  const url = flags.url === undefined ? undefined : parseModuleUrl(flags.url);
  const sha = flags.sha256 === undefined ? undefined : parseSha256(flags.sha256);
  if (url === undefined) {
    errors.push(`the WasmPlugins need --url: where the proxies fetch the module, e.g. oci://REGISTRY/sergo-wasm:${packageVersion()} after \`sergo package\` and a push (README, Deploy), or --no-wasm-plugins with --xds`);
  } else if (!url.ok) errors.push(`--url: ${url.error}`);
  if (sha !== undefined && !sha.ok) errors.push(`--sha256: ${sha.error}`);
  if (url === undefined || !url.ok || (sha !== undefined && !sha.ok)) return undefined;
  return {
    url: url.value.url,
    ...(sha === undefined ? {} : { sha256: sha.value }),
    ...(flags.phase === undefined ? {} : { phase: flags.phase }),
    ...(flags.priority === undefined ? {} : { priority: flags.priority }),
    failPolicy: flags.failPolicy,
    traffic: flags.traffic,
  };
}

/** Istio names the service's cluster outbound|PORT||HOST; the calls carry the host as :authority. */
function rlsOptions(flags: ControllerFlags, errors: string[]): RateLimitServiceOptions | undefined {
  const rest = { ...(flags.rlsDomain === undefined ? {} : { domain: flags.rlsDomain }), ...(flags.rlsTimeoutMs === undefined ? {} : { timeoutMs: flags.rlsTimeoutMs }) };
  if (flags.rls === undefined) return Object.keys(rest).length === 0 ? undefined : rest;
  let url: URL;
  try {
    url = new URL(flags.rls);
  } catch {
    errors.push(`--rls: "${flags.rls}" is not a URL (http://NAME.NAMESPACE.svc.cluster.local:PORT)`);
    return undefined;
  }
  const port = Number(url.port || '80');
  if (url.protocol !== 'http:' || url.hostname === '') {
    errors.push(`--rls: "${flags.rls}": expected http://HOST:PORT`);
    return undefined;
  }
  return { cluster: istioServiceCluster({ host: url.hostname, port }), authority: url.hostname, ...rest };
}

export async function runController(flags: ControllerFlags, io: CliIO): Promise<number> {
  const parsed = controllerOptions({ ...flags, identity: flags.identity ?? undefined }, io.stderr);
  if (!parsed.ok) {
    for (const e of parsed.errors) io.stderr(`sergo controller: ${e}\n`);
    return EXIT_INVALID_INPUT;
  }
  let controller;
  try {
    controller = await startController(parsed.options);
  } catch (err) {
    io.stderr(`sergo controller: not started: ${(err as Error).message}\n`);
    return EXIT_INVALID_INPUT;
  }
  const running = controller;
  io.stderr(`sergo controller: info: ${running.identity} on ${hostname()}; admin on ${flags.admin}${running.adminPort === undefined ? '' : ` (port ${running.adminPort})`}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.stderr(`sergo controller: info: ${signal} received, stopping\n`);
      void running.close().then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return EXIT_OK;
}
