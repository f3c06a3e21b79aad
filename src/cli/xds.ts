// `sergo xds --rules FILE|DIR… --listen HOST:PORT [--admin HOST:PORT] [--module PATH] …`: the ECDS
// control plane (src/xds, docs/xds.md) until SIGINT/SIGTERM; SIGHUP re-reads the rules.
// `sergo xds --opensergo HOST:PORT --namespace NS --app APP…`: the rules come from the OpenSergo
// control plane instead (src/opensergo, docs/opensergo.md).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_MODULE_PATH } from '../emit/wasm-plugin.ts';
import { DEFAULT_RLS_CLUSTER, DEFAULT_RLS_DOMAIN, DEFAULT_RLS_TIMEOUT_MS } from '../ir/deployment.ts';
import { isIntegerIn, LIMITS } from '../ir/limits.ts';
import { LOG_LEVELS, type LogLevel } from '../serve/log.ts';
import type { ConfigFile } from '../xds/catalog.ts';
import { startXds, XdsError } from '../xds/index.ts';
import { OpenSergoSource } from '../opensergo/source.ts';
import { parseListen } from '../address.ts';
import { createLogger } from '../serve/log.ts';
import { EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import type { CliIO } from './io.ts';
import { filterOptionFlags, namespaceOption, parseFilterOptions, type FilterOptionFlags } from './options.ts';
import { runUntilStopped } from './signals.ts';

export interface XdsCommandOptions extends FilterOptionFlags {
  rules: string[];
  config: ConfigFile[];
  listen: string;
  admin: string;
  module: string;
  failPolicy: 'open' | 'closed';
  namespace: string;
  rlsCluster?: string;
  rlsAuthority?: string;
  rlsDomain?: string;
  rlsTimeoutMs?: number;
  logLevel: LogLevel;
  watch: boolean;
  allowEmpty?: boolean;
  opensergo?: string;
  app: string[];
}

export function registerXdsCommand(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('xds')
    .description('serve the rules to Envoys over ECDS (xDS, gRPC), live: each Envoy gets its app\'s rules, every valid edit is pushed')
    .option('--rules <paths...>', 'OpenSergo rule files and directories (YAML or JSON), watched for changes', [])
    .option('--config <resource=file...>', 'serve a filter configuration JSON (as `sergo translate` prints it) as it is for one resource, e.g. sergo/default/foo=foo.json', configFile, [])
    .option('--listen <host:port>', 'gRPC address Envoys connect to (`sergo translate --format envoy --xds HOST:PORT`)', '0.0.0.0:18000')
    .option('--admin <host:port>', 'admin address: /status, /stats/prometheus, /ready', '127.0.0.1:9902')
    .option('--module <path>', 'the module\'s path inside the Envoys', DEFAULT_MODULE_PATH)
    .addOption(new Option('--fail-policy <policy>', 'what Envoy does with requests when the module fails').choices(['closed', 'open']).default('closed'))
    .addOption(namespaceOption())
    .option('--rls-cluster <name>', `Global rules: the rate-limit service's Envoy cluster (default ${DEFAULT_RLS_CLUSTER})`)
    .option('--rls-authority <host>', 'Global rules: :authority of the calls (default: the cluster name)')
    .option('--rls-domain <domain>', `Global rules: the rate-limit domain (default ${DEFAULT_RLS_DOMAIN})`)
    .option('--rls-timeout-ms <ms>', `Global rules: timeout of one call to the service (default ${DEFAULT_RLS_TIMEOUT_MS})`, milliseconds)
    .addOption(new Option('--log-level <level>', 'log verbosity (stderr)').choices(LOG_LEVELS).default('info'))
    .option('--no-watch', 'do not watch the rules (SIGHUP still reloads)')
    .option('--allow-empty', 'accept an empty rule file, and push an edit that leaves no rule (default: refused, the Envoys keep the previous rules)')
    .option('--opensergo <host:port>', 'take the rules from this OpenSergo control plane (port 10246) instead of --rules: every --app of --namespace, live')
    .option('--app <apps...>', 'with --opensergo: the apps (metadata.labels.app) whose rules to subscribe to', []);
  for (const option of filterOptionFlags()) command.addOption(option);
  command.action(async (options: XdsCommandOptions) => {
    done(await runXds(options, io));
  });
}

function configFile(value: string, previous: ConfigFile[]): ConfigFile[] {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError('expected sergo/<namespace>/<app>=FILE');
  return [...previous, { resource: value.slice(0, at), file: value.slice(at + 1) }];
}

function milliseconds(value: string): number {
  const { min, max } = LIMITS.serviceTimeoutMs;
  if (!/^[1-9][0-9]*$/.test(value) || !isIntegerIn(Number(value), LIMITS.serviceTimeoutMs)) throw new InvalidArgumentError(`expected an integer from ${min} to ${max} (milliseconds)`);
  return Number(value);
}

export async function runXds(options: XdsCommandOptions, io: CliIO): Promise<number> {
  const optionErrors: string[] = [];
  const filterOptions = parseFilterOptions(options, optionErrors);
  if (optionErrors.length > 0) {
    for (const message of optionErrors) io.stderr(`sergo: ${message}\n`);
    return EXIT_INVALID_INPUT;
  }
  const opensergo = openSergoSource(options, filterOptions, optionErrors, io);
  if (optionErrors.length > 0) {
    for (const message of optionErrors) io.stderr(`sergo: ${message}\n`);
    return EXIT_INVALID_INPUT;
  }
  let xds;
  try {
    xds = await startXds({
      source: opensergo,
      rules: options.rules,
      configs: options.config,
      listen: options.listen,
      admin: options.admin,
      module: options.module,
      failPolicy: options.failPolicy,
      namespace: options.namespace,
      rateLimitService: { cluster: options.rlsCluster, authority: options.rlsAuthority, domain: options.rlsDomain, timeoutMs: options.rlsTimeoutMs },
      options: filterOptions,
      logLevel: options.logLevel,
      watch: options.watch,
      allowEmpty: options.allowEmpty === true,
      write: io.stderr,
    });
  } catch (err) {
    await opensergo?.close();
    if (!(err instanceof XdsError)) throw err;
    io.stderr(`${err.message}\nsergo xds: not started\n`);
    return EXIT_INVALID_INPUT;
  }
  opensergo?.start();
  await runUntilStopped(xds, io.stderr, 'sergo xds', 'stopping');
  return EXIT_OK;
}

/** The control plane as the source (--opensergo), or undefined; problems with the flags go to `errors`. */
function openSergoSource(options: XdsCommandOptions, filterOptions: ReturnType<typeof parseFilterOptions>, errors: string[], io: CliIO): OpenSergoSource | undefined {
  if (options.opensergo === undefined) {
    if (options.app.length > 0) errors.push('--app: only with --opensergo (rule files name their apps)');
    return undefined;
  }
  if (options.rules.length > 0 || options.config.length > 0) errors.push('--opensergo: the rules come from the control plane; give no --rules or --config');
  if (options.app.length === 0) errors.push('--opensergo: name the apps to subscribe to with --app');
  try {
    parseListen(options.opensergo, '--opensergo');
  } catch (err) {
    errors.push((err as Error).message);
  }
  if (errors.length > 0) return undefined;
  return new OpenSergoSource({
    address: options.opensergo,
    namespace: options.namespace,
    apps: options.app,
    failPolicy: options.failPolicy,
    rateLimitService: { cluster: options.rlsCluster, authority: options.rlsAuthority, domain: options.rlsDomain, timeoutMs: options.rlsTimeoutMs },
    options: filterOptions,
    logger: createLogger(options.logLevel, io.stderr, 'sergo xds'),
  });
}
