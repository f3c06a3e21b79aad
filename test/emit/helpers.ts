// Shared by the emitter and package tests: the CLI run in-process, a rule set with every strategy,
// and the JSON Schema of the Envoy bootstrap.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { main } from '../../src/cli/main.ts';
import { concurrency, fallbackAction, join, objectDoc, rateLimit, rule, throttling } from '../support/documents.ts';
import { repoRoot } from '../support/paths.ts';

export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `sergo ARGS…` without a child process (same exit codes and output as bin/sergo.js). */
export async function sergo(...args: string[]): Promise<InProcessRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

export function errorBreaker(opts: { namespace?: string } = {}): string {
  const spec = "strategy: ErrorRequestRatio\ntriggerRatio: '50%'\nstatDuration: '10s'\nrecoveryTimeout: '5s'\nminRequestAmount: 5";
  return objectDoc('CircuitBreakerStrategy', 'errors', spec, opts);
}

/** One app (`shop`), every strategy kind, one fallback; namespace from `namespace` (default none). */
export function allStrategies(namespace?: string): string {
  const opts = namespace === undefined ? {} : { namespace };
  return join(
    rateLimit('rl', undefined, opts),
    throttling('pace', undefined, opts),
    concurrency('conc', undefined, opts),
    errorBreaker(opts),
    fallbackAction('fb', undefined, opts),
    rule('limit', 'shop', ['GET:/items'], ['rl'], { fallback: 'fb', namespace }),
    rule('paced', 'shop', ['/slow/**'], ['pace'], { namespace }),
    rule('bounded', 'shop', ['/orders/{id}'], ['conc', 'errors'], { namespace }),
  );
}

const bootstrapSchema = JSON.parse(readFileSync(resolve(repoRoot, 'schema/envoy-bootstrap.schema.json'), 'utf8')) as object;
const validateBootstrap = new Ajv({ allErrors: true }).compile(bootstrapSchema);

/** Violations of schema/envoy-bootstrap.schema.json as readable lines; empty when valid. */
export function bootstrapSchemaErrors(bootstrap: unknown): string[] {
  if (validateBootstrap(bootstrap)) return [];
  return (validateBootstrap.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
