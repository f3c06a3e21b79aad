// Istio's schemas as @kubernetes-models/istio 2.3.0 carries them (its v1beta1 VirtualService and
// DestinationRule models), for a check the models' own validate() does not make: Istio's CRDs prune
// unknown fields silently, so a field the emitter misspells would vanish in a cluster. unknownFields
// lists every key of a manifest's spec that the schema does not define.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.ts';

type Schema = { properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean; 'x-kubernetes-preserve-unknown-fields'?: boolean };

/** The model module's `const schema = {…};` (JSON in the published file). */
function modelSchema(kind: 'VirtualService' | 'DestinationRule'): Schema {
  const file = join(repoRoot, 'node_modules/@kubernetes-models/istio/networking.istio.io/v1beta1', `${kind}.js`);
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('const schema = ') + 'const schema = '.length;
  return JSON.parse(text.slice(start, text.indexOf('};\nclass ', start) + 1)) as Schema;
}

const SCHEMAS = { VirtualService: modelSchema('VirtualService'), DestinationRule: modelSchema('DestinationRule') };

export function unknownFields(manifest: { kind: string; spec: unknown }): string[] {
  const schema = SCHEMAS[manifest.kind as keyof typeof SCHEMAS];
  if (schema === undefined) throw new Error(`no schema for ${manifest.kind}`);
  return walk(manifest.spec, schema.properties!.spec!, 'spec');
}

function walk(value: unknown, schema: Schema, path: string): string[] {
  if (Array.isArray(value)) return schema.items === undefined ? [] : value.flatMap((v, i) => walk(v, schema.items!, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null || schema['x-kubernetes-preserve-unknown-fields'] === true) return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const child = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (child === undefined) return schema.additionalProperties === true ? [] : [`${path}.${key}`];
    return walk(v, child, `${path}.${key}`);
  });
}
