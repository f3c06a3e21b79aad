// Validates emitted configurations against schema/filter-config.v1.schema.json (the filter's contract).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { repoRoot } from './paths.ts';

const schema = JSON.parse(readFileSync(resolve(repoRoot, 'schema/filter-config.v1.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);

/** Schema violations of `config` as readable lines; empty when valid. */
export function schemaErrors(config: unknown): string[] {
  if (validate(config)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
