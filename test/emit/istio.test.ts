// Deployment → Istio WasmPlugin, validated with @kubernetes-models/istio. That model (2.3.0)
// predates `failStrategy`, so the test also checks it, and that spec has only WasmPlugin's fields
// (istio/api extensions/v1alpha1/wasm.proto, reference proxy-wasm.md §5.1).
import { WasmPlugin } from '@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseModuleUrl, parseSha256 } from '../../src/address.ts';
import { emitFilterConfig } from '../../src/emit/filter.ts';
import { ruleNamespaces } from '../../src/ir/deployment.ts';
import type { Deployment } from '../../src/ir/model.ts';
import {
  emitWasmPlugin,
  isDnsSubdomain,
  renderWasmPlugin,
  type WasmPluginManifest,
  type WasmPluginOptions,
} from '../../src/emit/istio.ts';
import { translateInline } from '../support/translate.ts';
import { allStrategies } from './helpers.ts';

const WASM_PLUGIN_SPEC_FIELDS = [
  'selector', 'targetRefs', 'url', 'sha256', 'imagePullPolicy', 'imagePullSecret', 'pluginConfig', 'pluginName',
  'phase', 'priority', 'failStrategy', 'vmConfig', 'match', 'type',
];
const DIGEST = 'a'.repeat(64);

const OPTIONS: WasmPluginOptions = {
  name: 'sergo-shop',
  url: 'oci://ghcr.io/example/sergo:0.1.0',
  failPolicy: 'closed',
  traffic: 'inbound',
};

async function config(): Promise<Deployment> {
  const result = await translateInline(allStrategies('prod'));
  expect(result.errorLines).toEqual([]);
  return result.deployment!;
}

/** Problems the model cannot see (fields newer than @kubernetes-models/istio 2.3.0). */
function extraErrors(manifest: WasmPluginManifest): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(manifest.spec)) if (!WASM_PLUGIN_SPEC_FIELDS.includes(key)) errors.push(`spec.${key}: not a WasmPlugin field`);
  if (!['FAIL_CLOSE', 'FAIL_OPEN', 'FAIL_RELOAD'].includes(manifest.spec.failStrategy)) errors.push(`spec.failStrategy: ${manifest.spec.failStrategy}`);
  return errors;
}

function validate(manifest: WasmPluginManifest): void {
  new WasmPlugin(manifest as unknown as ConstructorParameters<typeof WasmPlugin>[0]).validate();
}

describe('istio WasmPlugin', () => {
  it('is a valid WasmPlugin', async () => {
    const manifest = emitWasmPlugin(await config(), OPTIONS);
    expect(() => validate(manifest)).not.toThrow();
    expect(extraErrors(manifest)).toEqual([]);
  });

  it('validation can fail', async () => {
    const manifest = emitWasmPlugin(await config(), OPTIONS);
    const badPhase = structuredClone(manifest);
    (badPhase.spec as Record<string, unknown>).phase = 'ROUTER';
    expect(() => validate(badPhase)).toThrow(/phase/);
    const badStrategy = structuredClone(manifest);
    (badStrategy.spec as Record<string, unknown>).failStrategy = 'FAIL_CLOSED';
    expect(extraErrors(badStrategy)).toEqual(['spec.failStrategy: FAIL_CLOSED']);
    const unknownField = structuredClone(manifest);
    (unknownField.spec as Record<string, unknown>).rootId = 'sergo';
    expect(extraErrors(unknownField)).toEqual(['spec.rootId: not a WasmPlugin field']);
  });

  it('carries the filter configuration as a structure, for pluginName sergo', async () => {
    const deployment = await config();
    const filterConfig = emitFilterConfig(deployment);
    const manifest = emitWasmPlugin(deployment, OPTIONS);
    expect(manifest.apiVersion).toBe('extensions.istio.io/v1alpha1');
    expect(manifest.kind).toBe('WasmPlugin');
    expect(manifest.metadata).toEqual({ name: 'sergo-shop', namespace: 'prod' });
    expect(manifest.spec.pluginName).toBe('sergo');
    expect(typeof manifest.spec.pluginConfig).toBe('object');
    expect(manifest.spec.pluginConfig).toEqual(filterConfig);
    expect(manifest.spec.pluginConfig).not.toBe(filterConfig);
    expect(manifest.spec.selector).toEqual({ matchLabels: { app: 'shop' } });
    expect(manifest.spec.url).toBe(OPTIONS.url);
    expect(manifest.spec.failStrategy).toBe('FAIL_CLOSE');
    expect(manifest.spec.match).toEqual([{ mode: 'SERVER' }]);
    expect(Object.keys(manifest.spec)).not.toContain('sha256');
    expect(Object.keys(manifest.spec)).not.toContain('phase');
    expect(Object.keys(manifest.spec)).not.toContain('priority');
  });

  it('maps the optional flags', async () => {
    const manifest = emitWasmPlugin(await config(), { ...OPTIONS, sha256: DIGEST, phase: 'AUTHZ', priority: -10, failPolicy: 'open', traffic: 'gateway' });
    expect(manifest.spec).toMatchObject({ sha256: DIGEST, phase: 'AUTHZ', priority: -10, failStrategy: 'FAIL_OPEN', match: [{ mode: 'CLIENT' }] });
    expect(() => validate(manifest)).not.toThrow();
    expect(extraErrors(manifest)).toEqual([]);
    expect(Object.keys(manifest.spec).at(-1)).toBe('pluginConfig');
  });

  it('renders YAML with pluginConfig as a mapping that parses back to the manifest', async () => {
    const manifest = emitWasmPlugin(await config(), OPTIONS);
    const yaml = renderWasmPlugin(manifest);
    expect(parseYaml(yaml)).toEqual(manifest);
    expect(yaml).toMatch(/\n {2}pluginConfig:\n {4}version: 1\n {4}rules:\n/);
    expect(yaml).toContain('errorStatus:\n            - [500, 599]');
  });
});

describe('istio helpers', () => {
  it('finds the rules\' namespaces in the deployment model (never in rule ids)', async () => {
    expect(ruleNamespaces((await config()).rules)).toEqual(['prod']);
    expect(ruleNamespaces([])).toEqual([]);
  });

  it('checks names, digests and module URLs', () => {
    expect(isDnsSubdomain('sergo-shop')).toBe(true);
    expect(isDnsSubdomain('sergo-Shop')).toBe(false);
    expect(isDnsSubdomain('sergo_shop')).toBe(false);
    expect(isDnsSubdomain('a'.repeat(254))).toBe(false);
    expect(parseSha256(`sha256:${'AB'.repeat(32)}`)).toEqual({ ok: true, value: 'ab'.repeat(32) });
    expect(parseSha256('abc').ok).toBe(false);
    expect(parseModuleUrl(`oci://ghcr.io/x/sergo@sha256:${DIGEST}`)).toEqual({ ok: true, value: { scheme: 'oci', url: `oci://ghcr.io/x/sergo@sha256:${DIGEST}`, pinned: DIGEST } });
    expect(parseModuleUrl('file:///var/local/sergo.wasm')).toEqual({ ok: true, value: { scheme: 'file', url: 'file:///var/local/sergo.wasm', path: '/var/local/sergo.wasm' } });
    expect(parseModuleUrl('https://example.com/sergo.wasm').ok).toBe(true);
    for (const bad of ['ghcr.io/x/sergo:1', 'file://sergo.wasm', 'file:///', 'oci://ghcr.io', 's3://bucket/x.wasm']) expect(parseModuleUrl(bad).ok, bad).toBe(false);
  });
});
