// `sergo rls --redis URL [--listen HOST:PORT] [--grpc HOST:PORT] [--domain D] [--log-level L]`:
// run the global rate-limit service (Envoy RLS protocol over gRPC and HTTP/JSON, counts in Redis)
// until SIGTERM or SIGINT, then shut down gracefully. docs/rls.md.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { createLogger, LOG_LEVELS, startRateLimitService, type LogLevel } from '../rls/index.ts';
import { EXIT_INVALID_INPUT, EXIT_OK } from './exit-codes.ts';
import type { CliIO } from './io.ts';

export interface RlsCommandOptions {
  redis: string;
  listen: string;
  grpc: string;
  domain: string[];
  redisTimeout: number;
  logLevel: LogLevel;
}

export function registerRlsCommand(program: Command, io: CliIO, done: (code: number) => void): void {
  program
    .command('rls')
    .description('run the global rate-limit service (Envoy RLS protocol over gRPC and HTTP/JSON, counts in Redis)')
    .requiredOption('--redis <url>', 'Redis to count in (redis://[user:password@]host:port[/db])')
    .option('--listen <host:port>', 'HTTP address: POST /json, GET /healthz, GET /metrics', '0.0.0.0:8080')
    .option('--grpc <host:port>', 'gRPC address: envoy.service.ratelimit.v3.RateLimitService', '0.0.0.0:8081')
    .option('--domain <domain...>', 'rate-limit domain(s) served; "*" serves any', ['sergo'])
    .option('--redis-timeout <ms>', 'deadline of the Redis round trip of one decision', positiveInt, 50)
    .addOption(new Option('--log-level <level>', 'log verbosity (stderr)').choices(LOG_LEVELS).default('info'))
    .action(async (options: RlsCommandOptions) => {
      done(await runRls(options, io));
    });
}

function positiveInt(value: string): number {
  if (!/^[1-9][0-9]{0,6}$/.test(value)) throw new InvalidArgumentError('expected a positive integer (milliseconds)');
  return Number(value);
}

export async function runRls(options: RlsCommandOptions, io: CliIO): Promise<number> {
  const logger = createLogger(options.logLevel, io.stderr);
  let service;
  try {
    service = await startRateLimitService({
      redisUrl: options.redis,
      httpListen: options.listen,
      grpcListen: options.grpc,
      domains: options.domain.includes('*') ? '*' : options.domain,
      redisTimeoutMs: options.redisTimeout,
      logger,
    });
  } catch (err) {
    io.stderr(`sergo rls: ${(err as Error).message}\n`);
    return EXIT_INVALID_INPUT;
  }
  const running = service;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      logger.info(`${signal} received`);
      void running.close().then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return EXIT_OK;
}
