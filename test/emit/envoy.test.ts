// Deployment → Envoy bootstrap: schema (schema/envoy-bootstrap.schema.json), semantics
// (the StringValue is the filter config, root_id sergo, router last, route → existing cluster,
// one stats tag per metric tag that really extracts it), YAML round trip, address parsing.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  type Cluster,
  emitEnvoyBootstrap,
  renderEnvoyBootstrap,
  type EnvoyBootstrap,
  type EnvoyBootstrapOptions,
  type HttpFilter,
} from '../../src/emit/envoy.ts';
import { emitFilterConfig } from '../../src/emit/filter.ts';
import { METRIC_TAGS } from '../../src/emit/metrics.ts';
import type { WasmFilter } from '../../src/emit/wasm-plugin.ts';
import type { Deployment } from '../../src/ir/model.ts';
import { parseBindAddress, parseUpstreamUrl } from '../../src/address.ts';
import { planFormat } from '../../src/cli/formats.ts';
import { translateInline } from '../support/translate.ts';
import { allStrategies, bootstrapSchemaErrors } from './helpers.ts';

const OPTIONS: EnvoyBootstrapOptions = {
  listen: { host: '0.0.0.0', port: 10000 },
  admin: { host: '127.0.0.1', port: 9901 },
  upstream: { host: 'app', port: 8080 },
  modulePath: '/etc/envoy/sergo.wasm',
  failPolicy: 'closed',
};

async function config(): Promise<Deployment> {
  const result = await translateInline(allStrategies());
  expect(result.errorLines).toEqual([]);
  return result.deployment!;
}

function hcm(b: EnvoyBootstrap) {
  return b.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
}

function wasmFilter(filters: HttpFilter[]): WasmFilter {
  const filter = filters.find((f) => f.name === 'envoy.filters.http.wasm');
  expect(filter).toBeDefined();
  return filter!.typed_config as unknown as WasmFilter;
}

describe('envoy bootstrap', () => {
  it('matches the bootstrap schema', async () => {
    const bootstrap = emitEnvoyBootstrap(await config(), OPTIONS);
    expect(bootstrapSchemaErrors(bootstrap)).toEqual([]);
  });

  it('the schema rejects fields and values Envoy does not have', async () => {
    const bootstrap = emitEnvoyBootstrap(await config(), OPTIONS);
    const misspelled = structuredClone(bootstrap) as unknown as { admin: Record<string, unknown> };
    misspelled.admin.adress = misspelled.admin.address;
    expect(bootstrapSchemaErrors(misspelled)).not.toEqual([]);
    const badPolicy = structuredClone(bootstrap);
    wasmFilter(hcm(badPolicy).http_filters).config.failure_policy = 'FAIL_SOMETIMES' as 'FAIL_OPEN';
    expect(bootstrapSchemaErrors(badPolicy)).not.toEqual([]);
    const noPolicy = structuredClone(bootstrap);
    delete wasmFilter(hcm(noPolicy).http_filters).config.failure_policy;
    expect(bootstrapSchemaErrors(noPolicy)).not.toEqual([]);
  });

  it('carries the filter configuration as a StringValue for root_id sergo', async () => {
    const filterConfig = await config();
    const plugin = wasmFilter(hcm(emitEnvoyBootstrap(filterConfig, OPTIONS)).http_filters).config;
    expect(plugin.root_id).toBe('sergo');
    expect(plugin.name).toBe('sergo');
    expect(plugin.vm_config).toEqual({ vm_id: 'sergo', runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: '/etc/envoy/sergo.wasm' } } });
    expect(plugin.configuration['@type']).toBe('type.googleapis.com/google.protobuf.StringValue');
    expect(JSON.parse(plugin.configuration.value)).toEqual(emitFilterConfig(filterConfig));
    expect(plugin.failure_policy).toBe('FAIL_CLOSED');
    expect(plugin.fail_open).toBeUndefined();
  });

  it('maps --fail-policy open to FAIL_OPEN and uses the given module path', async () => {
    const plugin = wasmFilter(hcm(emitEnvoyBootstrap(await config(), { ...OPTIONS, failPolicy: 'open', modulePath: 'build/sergo.wasm' })).http_filters).config;
    expect(plugin.failure_policy).toBe('FAIL_OPEN');
    expect(plugin.vm_config.code).toEqual({ local: { filename: 'build/sergo.wasm' } });
  });

  it('puts the wasm filter first and the router last; the route targets an existing cluster', async () => {
    const bootstrap = emitEnvoyBootstrap(await config(), OPTIONS);
    const manager = hcm(bootstrap);
    expect(manager.http_filters.map((f) => f.name)).toEqual(['envoy.filters.http.wasm', 'envoy.filters.http.router']);
    const clusters = bootstrap.static_resources.clusters as Cluster[];
    for (const host of manager.route_config.virtual_hosts) {
      for (const route of host.routes) expect(clusters.map((c) => c.name)).toContain(route.route?.cluster);
    }
    for (const cluster of clusters) expect(cluster.load_assignment.cluster_name).toBe(cluster.name);
    expect(bootstrap.static_resources.listeners[0]!.address).toEqual({ socket_address: { address: '0.0.0.0', port_value: 10000 } });
    expect(bootstrap.admin.address).toEqual({ socket_address: { address: '127.0.0.1', port_value: 9901 } });
  });

  it('emits no route timeout by default (Envoy\'s own 15 s) and --upstream-timeout as the route\'s timeout', async () => {
    const filterConfig = await config();
    const route = (b: EnvoyBootstrap) => hcm(b).route_config.virtual_hosts[0]!.routes[0]!.route;
    expect(route(emitEnvoyBootstrap(filterConfig, OPTIONS))).toEqual({ cluster: 'upstream' });
    for (const [ms, text] of [[300, '0.3s'], [1, '0.001s'], [15_000, '15s'], [90_500, '90.5s']] as const) {
      const bootstrap = emitEnvoyBootstrap(filterConfig, { ...OPTIONS, upstreamTimeoutMs: ms });
      expect(route(bootstrap)).toEqual({ cluster: 'upstream', timeout: text });
      expect(bootstrapSchemaErrors(bootstrap)).toEqual([]);
    }
    const badTimeout = emitEnvoyBootstrap(filterConfig, OPTIONS);
    (route(badTimeout) as { timeout?: string }).timeout = '300ms';
    expect(bootstrapSchemaErrors(badTimeout)).not.toEqual([]);
  });

  it('--upstream-timeout: a positive integer of milliseconds, only with --format envoy', () => {
    const base = { format: 'envoy', upstream: 'http://app:8080' } as const;
    const planned = planFormat({ ...base, upstreamTimeout: '300' });
    expect(planned.ok && planned.value.format === 'envoy' && planned.value.options.upstreamTimeoutMs).toBe(300);
    const plain = planFormat(base);
    expect(plain.ok && plain.value.format === 'envoy' && 'upstreamTimeoutMs' in plain.value.options).toBe(false);
    for (const bad of ['0', '-1', '1.5', '300ms', '', '1234567890']) {
      expect(planFormat({ ...base, upstreamTimeout: bad }), bad).toEqual({
        ok: false, errors: [`--upstream-timeout: "${bad}" is not a positive integer of at most 9 digits (milliseconds)`],
      });
    }
    expect(planFormat({ format: 'filter', upstreamTimeout: '300' })).toEqual({
      ok: false, errors: ['--upstream-timeout does not apply to --format filter (only to envoy)'],
    });
  });

  it('builds a STRICT_DNS cluster for names and a STATIC one for IP addresses', async () => {
    const filterConfig = await config();
    const byName = emitEnvoyBootstrap(filterConfig, OPTIONS).static_resources.clusters[0]! as Cluster;
    expect(byName).toMatchObject({ type: 'STRICT_DNS', dns_lookup_family: 'V4_PREFERRED', connect_timeout: '5s' });
    for (const host of ['10.0.0.7', '::1']) {
      const byIp = emitEnvoyBootstrap(filterConfig, { ...OPTIONS, upstream: { host, port: 80 } }).static_resources.clusters[0]! as Cluster;
      expect(byIp.type).toBe('STATIC');
      expect(byIp.dns_lookup_family).toBeUndefined();
      expect(byIp.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address).toEqual({ address: host, port_value: 80 });
      expect(bootstrapSchemaErrors(emitEnvoyBootstrap(filterConfig, { ...OPTIONS, upstream: { host, port: 80 } }))).toEqual([]);
    }
  });

  it('has one stats tag per metric tag, and each regex extracts its tag from a metric name', async () => {
    const tags = emitEnvoyBootstrap(await config(), OPTIONS).stats_config.stats_tags;
    expect(tags.map((t) => t.tag_name)).toEqual([...METRIC_TAGS]);
    expect(tags[0]!.regex).toBe('(sergo_namespace=\\.=(.*?);\\.;)');
    const values: Record<string, string> = {
      sergo_namespace: 'default',
      sergo_app: 'shop',
      sergo_rule: 'limit',
      sergo_resource: 'GET:/items',
      sergo_strategy: 'CircuitBreaker',
      sergo_strategy_name: 'cb.v2',
      sergo_from: 'closed',
      sergo_to: 'open',
    };
    let name = `sergo.${METRIC_TAGS.map((t) => `${t}=.=${values[t]};.;`).join('')}breaker_transitions`;
    // Envoy (RE2) applies each regex: group 1 is cut from the name, group 2 is the tag's value.
    for (const tag of tags) {
      const match = new RegExp(tag.regex).exec(name);
      expect(match?.[2]).toBe(values[tag.tag_name]);
      name = name.replace(match![1]!, '');
    }
    expect(name).toBe('sergo.breaker_transitions');
  });

  it('renders YAML that parses back to the same bootstrap, with the config JSON readable', async () => {
    const bootstrap = emitEnvoyBootstrap(await config(), OPTIONS);
    const yaml = renderEnvoyBootstrap(bootstrap, OPTIONS);
    expect(yaml.startsWith('# Envoy bootstrap generated by `sergo translate --format envoy`.')).toBe(true);
    expect(parseYaml(yaml)).toEqual(bootstrap);
    expect(yaml).toContain('value: |\n');
    expect(yaml).toContain('"kind": "RateLimit"');
    expect(yaml).not.toMatch(/[&*]a\d/); // no YAML anchors or aliases
  });

  it('is deterministic', async () => {
    const a = renderEnvoyBootstrap(emitEnvoyBootstrap(await config(), OPTIONS), OPTIONS);
    const b = renderEnvoyBootstrap(emitEnvoyBootstrap(await config(), OPTIONS), OPTIONS);
    expect(a).toBe(b);
  });
});

describe('address arguments', () => {
  it('--listen / --admin take IPv4 or bracketed IPv6 literals with a port', () => {
    expect(parseBindAddress('0.0.0.0:10000')).toEqual({ ok: true, value: { host: '0.0.0.0', port: 10000 } });
    expect(parseBindAddress('[::]:8080')).toEqual({ ok: true, value: { host: '::', port: 8080 } });
    for (const bad of ['localhost:10000', '0.0.0.0', '0.0.0.0:0', '0.0.0.0:65536', ':::80', '[1.2.3.4]:80', '0.0.0.0:80x', '']) {
      expect(parseBindAddress(bad).ok, bad).toBe(false);
    }
  });

  it('--upstream takes http://HOST[:PORT] without a path', () => {
    expect(parseUpstreamUrl('http://app:8080')).toEqual({ ok: true, value: { host: 'app', port: 8080 } });
    expect(parseUpstreamUrl('http://app:8080/')).toEqual({ ok: true, value: { host: 'app', port: 8080 } });
    expect(parseUpstreamUrl('http://10.1.2.3')).toEqual({ ok: true, value: { host: '10.1.2.3', port: 80 } });
    expect(parseUpstreamUrl('http://[::1]:9000')).toEqual({ ok: true, value: { host: '::1', port: 9000 } });
    for (const bad of ['https://app:8443', 'app:8080', 'http://app:8080/api', 'http://app:8080?x=1', 'http://u:p@app', 'ftp://app', 'http://app:99999']) {
      expect(parseUpstreamUrl(bad).ok, bad).toBe(false);
    }
  });
});
