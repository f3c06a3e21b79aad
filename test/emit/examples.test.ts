// The committed deployment examples under envoy/ are exactly what the CLI produces now (so they
// cannot go stale), are valid, and the rules show every strategy kind with Local limits only.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { WasmPlugin } from '@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { repoRoot } from '../support/paths.ts';
import { bootstrapSchemaErrors, sergo } from './helpers.ts';

/** The commands in envoy/envoy/README.md and envoy/istio/README.md (without `-o`). */
const GENERATED = [
  {
    file: 'envoy/envoy/bootstrap.yaml',
    args: ['translate', 'envoy/envoy/rules.yaml', '--format', 'envoy', '--upstream', 'http://httpbin:8080', '--admin', '0.0.0.0:9901'],
  },
  { file: 'envoy/istio/wasmplugin.yaml', args: ['translate', 'envoy/istio/rules.yaml', '--format', 'istio', '--url', 'oci://ghcr.io/sergo-wasm/sergo:0.1.0'] },
];

function read(path: string): string {
  return readFileSync(resolve(repoRoot, path), 'utf8');
}

describe('envoy/ examples', () => {
  it.each(GENERATED)('$file is what the CLI produces now', async ({ file, args }) => {
    const run = await sergo(...args.map((a) => (a.startsWith('envoy/') ? resolve(repoRoot, a) : a)));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(read(file), `${file} is stale: regenerate it with \`npx sergo ${args.join(' ')} -o ${file}\``).toBe(run.stdout);
  });

  it('the READMEs give the same commands', () => {
    const envoyReadme = read('envoy/envoy/README.md').replace(/\\\n\s*/g, '');
    expect(envoyReadme).toContain(`npx sergo ${GENERATED[0]!.args.join(' ')} -o ${GENERATED[0]!.file}`);
    expect(read('envoy/istio/README.md').replace(/\\\n\s*/g, '')).toContain(`npx sergo ${GENERATED[1]!.args.join(' ')} -o ${GENERATED[1]!.file}`);
  });

  it('the bootstrap is valid and loads build/sergo.wasm from where the README mounts it', () => {
    const bootstrap = parseYaml(read('envoy/envoy/bootstrap.yaml'));
    expect(bootstrapSchemaErrors(bootstrap)).toEqual([]);
    const plugin = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
    expect(plugin.vm_config.code.local.filename).toBe('/etc/envoy/sergo.wasm');
    expect(read('envoy/envoy/README.md')).toContain('build/sergo.wasm:/etc/envoy/sergo.wasm:ro');
    expect(read('envoy/envoy/README.md')).toContain('bootstrap.yaml:/etc/envoy/bootstrap.yaml:ro');
    expect(read('envoy/envoy/README.md')).toMatch(/envoyproxy\/envoy:v1\.3\d-latest -c \/etc\/envoy\/bootstrap\.yaml/);
  });

  it('the WasmPlugin is valid', () => {
    const manifest = parseYaml(read('envoy/istio/wasmplugin.yaml'));
    expect(() => new WasmPlugin(manifest).validate()).not.toThrow();
    expect(manifest.spec.selector.matchLabels.app).toBe('httpbin');
  });

  it.each(['envoy/envoy/rules.yaml', 'envoy/istio/rules.yaml'])('%s shows every strategy, a fallback, Local limits only', (file) => {
    const objects = parseAllDocuments(read(file)).map((d) => d.toJS() as { kind: string; spec: Record<string, unknown> });
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['RateLimitStrategy', 'ThrottlingStrategy', 'ConcurrencyLimitStrategy', 'CircuitBreakerStrategy', 'HttpRequestFallbackAction', 'FaultToleranceRule']) {
      expect(kinds, kind).toContain(kind);
    }
    for (const o of objects) if ('limitMode' in o.spec) expect(o.spec.limitMode).toBe('Local');
    const targets = objects.filter((o) => o.kind === 'FaultToleranceRule').map((o) => (o.spec.targets as Array<{ targetResourceName: string }>)[0]!.targetResourceName);
    expect(new Set(targets).size).toBe(targets.length);
  });
});
