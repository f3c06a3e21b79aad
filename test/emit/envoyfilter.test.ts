// Deployment → Istio EnvoyFilter (older meshes): validated with @kubernetes-models/istio,
// plus the wiring the model cannot see (the ECDS resource the HTTP filter names exists and carries
// the filter configuration; the filter goes before the router).
import { EnvoyFilter } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { emitEnvoyFilter, localCode, remoteCode, renderEnvoyFilter, type EnvoyFilterManifest, type EnvoyFilterOptions } from '../../src/emit/envoyfilter.ts';
import { emitFilterConfig } from '../../src/emit/filter.ts';
import type { Deployment } from '../../src/ir/model.ts';
import { translateInline } from '../support/translate.ts';
import { allStrategies } from './helpers.ts';

const DIGEST = 'b'.repeat(64);
const OPTIONS: EnvoyFilterOptions = {
  name: 'sergo-shop',
  code: remoteCode('https://example.com/sergo.wasm', DIGEST),
  failPolicy: 'closed',
  traffic: 'inbound',
};

async function config(): Promise<Deployment> {
  const result = await translateInline(allStrategies('prod'));
  expect(result.errorLines).toEqual([]);
  return result.deployment!;
}

function validate(manifest: EnvoyFilterManifest): void {
  new EnvoyFilter(manifest as unknown as ConstructorParameters<typeof EnvoyFilter>[0]).validate();
}

describe('istio EnvoyFilter', () => {
  it('is a valid EnvoyFilter, and validation can fail', async () => {
    const manifest = emitEnvoyFilter(await config(), OPTIONS);
    expect(() => validate(manifest)).not.toThrow();
    const bad = structuredClone(manifest) as unknown as { spec: { configPatches: Array<Record<string, unknown>> } };
    bad.spec.configPatches[1]!.applyTo = 'HTTP_FILTERS';
    expect(() => validate(bad as unknown as EnvoyFilterManifest)).toThrow(/applyTo/);
  });

  it('adds the Wasm filter as an ECDS resource and inserts it before the router', async () => {
    const filterConfig = await config();
    const manifest = emitEnvoyFilter(filterConfig, OPTIONS);
    expect(manifest.metadata).toEqual({ name: 'sergo-shop', namespace: 'prod' });
    expect(manifest.spec.workloadSelector).toEqual({ labels: { app: 'shop' } });
    const [extension, filter] = manifest.spec.configPatches;
    expect(extension.applyTo).toBe('EXTENSION_CONFIG');
    expect(extension.patch.operation).toBe('ADD');
    expect(filter.applyTo).toBe('HTTP_FILTER');
    expect(filter.patch.operation).toBe('INSERT_BEFORE');
    expect(filter.match).toEqual({
      context: 'SIDECAR_INBOUND',
      listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } } } },
    });
    // The HTTP filter takes its configuration from the resource the first patch adds.
    expect(filter.patch.value.name).toBe(extension.patch.value.name);
    expect(filter.patch.value.config_discovery.type_urls).toEqual([extension.patch.value.typed_config['@type']]);
    expect(filter.patch.value.config_discovery.config_source).toEqual({ ads: {}, initial_fetch_timeout: '0s' });
    const plugin = extension.patch.value.typed_config.config;
    expect(extension.patch.value.typed_config['@type']).toBe('type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm');
    expect(plugin.root_id).toBe('sergo');
    expect(JSON.parse(plugin.configuration.value)).toEqual(emitFilterConfig(filterConfig));
    expect(plugin.vm_config.code).toEqual({ remote: { http_uri: { uri: 'https://example.com/sergo.wasm', cluster: '_', timeout: '30s' }, sha256: DIGEST } });
  });

  it('uses fail_open (known to every proxy) instead of failure_policy', async () => {
    const closed = emitEnvoyFilter(await config(), OPTIONS).spec.configPatches[0].patch.value.typed_config.config;
    expect(closed.fail_open).toBe(false);
    expect(closed.failure_policy).toBeUndefined();
    const open = emitEnvoyFilter(await config(), { ...OPTIONS, failPolicy: 'open' }).spec.configPatches[0].patch.value.typed_config.config;
    expect(open.fail_open).toBe(true);
  });

  it('supports a local module and gateways', async () => {
    const manifest = emitEnvoyFilter(await config(), { ...OPTIONS, code: localCode('/var/local/wasm/sergo.wasm'), traffic: 'gateway' });
    expect(manifest.spec.configPatches[0].patch.value.typed_config.config.vm_config.code).toEqual({ local: { filename: '/var/local/wasm/sergo.wasm' } });
    expect(manifest.spec.configPatches[1].match.context).toBe('GATEWAY');
    expect(() => validate(manifest)).not.toThrow();
  });

  it('renders YAML that parses back to the manifest', async () => {
    const manifest = emitEnvoyFilter(await config(), OPTIONS);
    expect(parseYaml(renderEnvoyFilter(manifest))).toEqual(manifest);
  });
});
