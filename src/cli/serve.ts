// `sergo serve --rules FILE… --upstream URL [--listen HOST:PORT] [--admin HOST:PORT] [--vms N] …`:
// the embedded data plane (src/serve): a reverse proxy running build/sergo.wasm as Envoy would, until
// SIGINT/SIGTERM (graceful), reloading the rules when they change (or on SIGHUP).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { LOG_LEVELS, ServeError, startServe, type LogLevel } from '../serve/index.ts';
import { EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import type { CliIO } from './io.ts';
import { appOption, namespaceOption } from './options.ts';
import { runUntilStopped } from './signals.ts';

export interface ServeCommandOptions {
  rules?: string[];
  config?: string;
  upstream: string;
  listen: string;
  admin: string;
  vms: number;
  app?: string;
  namespace: string;
  logLevel: LogLevel;
  rls?: string;
  rlsDomain?: string;
  rlsTimeoutMs?: number;
  upstreamTimeout: number;
  failPolicy: 'open' | 'closed';
  module?: string;
  watch: boolean;
  allowEmpty?: boolean;
}

export function registerServeCommand(program: Command, io: CliIO, done: (code: number) => void): void {
  program
    .command('serve')
    .description('run a reverse proxy that enforces the rules with build/sergo.wasm, as Envoy would (reloads the rules when they change)')
    .option('--rules <files...>', 'OpenSergo rule files (YAML or JSON) or directories (their *.yaml, *.yml, *.json), watched for changes')
    .option('--config <file>', 'a filter configuration JSON (as `sergo translate` prints it) instead of --rules')
    .requiredOption('--upstream <url>', 'the service behind the proxy: http://HOST[:PORT]')
    .option('--listen <host:port>', 'proxy address (port 0: any free port)', '0.0.0.0:10000')
    .option('--admin <host:port>', 'admin address: /ready, /stats, /stats/prometheus, /config_dump', '127.0.0.1:9901')
    .option('--vms <n>', 'worker VMs (instances of the module; connections are spread over them)', count, 2)
    .addOption(appOption())
    .addOption(namespaceOption())
    .addOption(new Option('--log-level <level>', 'log verbosity (stderr)').choices(LOG_LEVELS).default('info'))
    .option('--rls <url>', 'rate-limit service for limitMode Global rules (HTTP/JSON, e.g. `sergo rls`): http://HOST:PORT')
    .option('--rls-domain <domain>', 'rate-limit domain of Global rules (default: sergo)')
    .option('--rls-timeout-ms <ms>', 'deadline of one rate-limit call (default: 20)', milliseconds)
    .option('--upstream-timeout <ms>', 'upstream request timeout (then 504)', milliseconds, 15000)
    .addOption(new Option('--fail-policy <policy>', 'when the module fails: reject requests (503) or skip the filter').choices(['closed', 'open']).default('closed'))
    .option('--module <path>', 'the proxy-wasm module (default: build/sergo.wasm of this package)')
    .option('--no-watch', 'do not watch the rule files (SIGHUP still reloads)')
    .option('--allow-empty', 'serve, and reload to, a configuration without rules (default: refused; a reload to none keeps the previous rules)')
    .action(async (options: ServeCommandOptions) => {
      done(await runServe(options, io));
    });
}

function count(value: string): number {
  if (!/^[1-9][0-9]{0,2}$/.test(value) || Number(value) > 256) throw new InvalidArgumentError('expected an integer from 1 to 256');
  return Number(value);
}

function milliseconds(value: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new InvalidArgumentError('expected a positive integer (milliseconds)');
  return Number(value);
}

export async function runServe(options: ServeCommandOptions, io: CliIO): Promise<number> {
  let serve;
  try {
    serve = await startServe({
      rules: options.rules,
      config: options.config,
      upstream: options.upstream,
      listen: options.listen,
      admin: options.admin,
      vms: options.vms,
      app: options.app,
      namespace: options.namespace,
      logLevel: options.logLevel,
      rls: options.rls,
      rlsDomain: options.rlsDomain,
      rlsTimeoutMs: options.rlsTimeoutMs,
      upstreamTimeoutMs: options.upstreamTimeout,
      failPolicy: options.failPolicy,
      module: options.module,
      watch: options.watch,
      allowEmpty: options.allowEmpty === true,
      write: io.stderr,
    });
  } catch (err) {
    if (!(err instanceof ServeError)) throw err;
    for (const p of err.problems) io.stderr(`${p}\n`);
    io.stderr('sergo serve: not started\n');
    return EXIT_INVALID_INPUT;
  }
  await runUntilStopped(serve, io.stderr, 'sergo serve', 'draining');
  return EXIT_OK;
}
