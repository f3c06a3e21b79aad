// limitMode Global in the deployment formats: the rate-limit service cluster of the Envoy bootstrap,
// Istio's outbound|PORT||HOST cluster, the --rls… flags and their errors.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WasmPlugin } from '@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseRlsUrl } from '../../src/address.ts';
import { emitEnvoyBootstrap, RLS_CONNECT_TIMEOUT } from '../../src/emit/envoy.ts';
import { istioClusterHostProblem, istioServiceCluster } from '../../src/emit/istio.ts';
import { lines } from '../support/cli.ts';
import { join as joinDocs, rateLimit, rule } from '../support/documents.ts';
import { schemaErrors } from '../support/schema.ts';
import { translateInline } from '../support/translate.ts';
import { writeFiles } from '../support/workspace.ts';
import { allStrategies, bootstrapSchemaErrors, sergo } from './helpers.ts';

const DIGEST = 'c'.repeat(64);
const RLS_HOST = 'sergo-rls.sergo-system.svc.cluster.local';
const GLOBAL_SPEC = 'metricType: RequestAmount\nlimitMode: Global\nthreshold: 100\nstatDurationSeconds: 1\nbatch: 5';
const files = writeFiles({
  'global.yaml': joinDocs(
    rateLimit('g', GLOBAL_SPEC, { namespace: 'prod' }),
    rateLimit('l', undefined, { namespace: 'prod' }),
    rule('shared', 'shop', ['GET:/items'], ['g', 'l'], { namespace: 'prod' }),
  ),
  'local.yaml': allStrategies('prod'),
});
const global = files['global.yaml']!;
const local = files['local.yaml']!;

function yamlOf(text: string): any {
  return parseYaml(text);
}

function bootstrapConfig(bootstrap: any): any {
  const plugin = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
  return JSON.parse(plugin.configuration.value);
}

describe('--format envoy with Global rules', () => {
  it('adds a cluster for the rate-limit service, named like the configuration says', async () => {
    const run = await sergo('translate', global, '--format', 'envoy', '--upstream', 'http://shop:8080', '--rls', 'http://sergo-rls:8080');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const bootstrap = yamlOf(run.stdout);
    expect(bootstrapSchemaErrors(bootstrap)).toEqual([]);
    expect(bootstrap.static_resources.clusters.map((c: { name: string }) => c.name)).toEqual(['upstream', 'sergo_rls']);
    expect(bootstrap.static_resources.clusters[1]).toEqual({
      name: 'sergo_rls',
      type: 'STRICT_DNS',
      connect_timeout: '0.25s',
      dns_lookup_family: 'V4_PREFERRED',
      load_assignment: {
        cluster_name: 'sergo_rls',
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'sergo-rls', port_value: 8080 } } } }] }],
      },
    });
    const config = bootstrapConfig(bootstrap);
    expect(schemaErrors(config)).toEqual([]);
    expect(config.rateLimitService).toEqual({ cluster: 'sergo_rls', authority: 'sergo_rls', path: '/json', domain: 'sergo', timeoutMs: 20 });
    expect(config.rules.map((r: { strategy: unknown }) => r.strategy)).toEqual([
      { kind: 'RateLimit', mode: 'Global', threshold: 100, windowMs: 1000, failOpen: false, batch: 5 },
      { kind: 'RateLimit', threshold: 10, windowMs: 1000 },
    ]);
  });

  it('uses --rls-cluster, --rls-authority, --rls-timeout-ms, --rls-domain; an IP makes a STATIC cluster', async () => {
    const run = await sergo(
      'translate', global, '--format', 'envoy', '--upstream', 'http://shop:8080', '--rls', 'http://10.0.0.9:18080',
      '--rls-cluster', 'my_rls', '--rls-authority', 'rls.local', '--rls-timeout-ms', '35', '--rls-domain', 'shop',
    );
    expect(run.code).toBe(0);
    const bootstrap = yamlOf(run.stdout);
    expect(bootstrapSchemaErrors(bootstrap)).toEqual([]);
    const cluster = bootstrap.static_resources.clusters[1];
    expect(cluster).toMatchObject({ name: 'my_rls', type: 'STATIC', connect_timeout: RLS_CONNECT_TIMEOUT });
    expect(cluster).not.toHaveProperty('dns_lookup_family');
    expect(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({ address: '10.0.0.9', port_value: 18080 });
    expect(bootstrapConfig(bootstrap).rateLimitService).toEqual({ cluster: 'my_rls', authority: 'rls.local', path: '/json', domain: 'shop', timeoutMs: 35 });
  });

  it('needs --rls when a rule is Global (exit 2, nothing written)', async () => {
    const out = join(writeFiles({}).dir, 'bootstrap.yaml');
    const run = await sergo('translate', global, '--format', 'envoy', '--upstream', 'http://shop:8080', '-o', out);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual([
      'sergo: the rules have limitMode Global, counted by a rate-limit service: --format envoy needs --rls http://HOST:PORT, the service\'s HTTP/JSON address (e.g. where `sergo rls --listen` listens)',
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('leaves Local-only output unchanged, with a warning when --rls… is given anyway', async () => {
    const plain = await sergo('translate', local, '--format', 'envoy', '--upstream', 'http://shop:8080');
    const withRls = await sergo('translate', local, '--format', 'envoy', '--upstream', 'http://shop:8080', '--rls', 'http://rls:8080', '--rls-domain', 'x');
    expect(withRls.code).toBe(0);
    expect(withRls.stdout).toBe(plain.stdout);
    expect(yamlOf(plain.stdout).static_resources.clusters).toHaveLength(1);
    expect(lines(withRls.stderr)).toEqual(['sergo: warning: --rls, --rls-domain ignored: no rule has limitMode Global']);
  });

  it('the emitter refuses a deployment whose service has no address', async () => {
    const result = await translateInline(joinDocs(rateLimit('g', GLOBAL_SPEC), rule('r', 'shop', ['/a'], ['g'])));
    const options = { listen: { host: '0.0.0.0', port: 10000 }, admin: { host: '127.0.0.1', port: 9901 }, upstream: { host: 'app', port: 80 }, modulePath: '/m.wasm', failPolicy: 'closed' as const };
    const deployment = result.deployment!;
    expect(() => emitEnvoyBootstrap(deployment, options)).toThrow(/rate-limit service address/);
    const withEndpoint = { ...deployment, rateLimitService: { ...deployment.rateLimitService, endpoint: { host: 'rls', port: 8080 } } };
    expect(emitEnvoyBootstrap(withEndpoint, options).static_resources.clusters).toHaveLength(2);
  });
});

describe('--format istio and envoyfilter with Global rules', () => {
  it('istio: the cluster is outbound|PORT||HOST of --rls, the authority its host', async () => {
    const run = await sergo('translate', global, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--rls', `http://${RLS_HOST}:8080`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(parseAllDocuments(run.stdout)).toHaveLength(1); // an in-mesh Service needs no other manifest
    const manifest = yamlOf(run.stdout);
    expect(() => new WasmPlugin(manifest).validate()).not.toThrow();
    expect(schemaErrors(manifest.spec.pluginConfig)).toEqual([]);
    expect(manifest.spec.pluginConfig.rateLimitService).toEqual({
      cluster: `outbound|8080||${RLS_HOST}`,
      authority: RLS_HOST,
      path: '/json',
      domain: 'sergo',
      timeoutMs: 20,
    });
    expect(manifest.spec.pluginConfig.rules[0].strategy).toMatchObject({ mode: 'Global', batch: 5 });
  });

  it('istio: port 80 by default; --rls-cluster and --rls-authority win over --rls', async () => {
    const defaultPort = await sergo('translate', global, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--rls', `http://${RLS_HOST}`);
    expect(yamlOf(defaultPort.stdout).spec.pluginConfig.rateLimitService.cluster).toBe(`outbound|80||${RLS_HOST}`);
    const explicit = await sergo('translate', global, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--rls', `http://${RLS_HOST}:8080`, '--rls-cluster', 'outbound|8080|v2|rls', '--rls-authority', 'rls');
    expect(yamlOf(explicit.stdout).spec.pluginConfig.rateLimitService).toMatchObject({ cluster: 'outbound|8080|v2|rls', authority: 'rls' });
    const clusterOnly = await sergo('translate', global, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--rls-cluster', `outbound|8081||${RLS_HOST}`);
    expect(clusterOnly.code).toBe(0);
    expect(yamlOf(clusterOnly.stdout).spec.pluginConfig.rateLimitService).toMatchObject({ cluster: `outbound|8081||${RLS_HOST}`, authority: `outbound|8081||${RLS_HOST}` });
  });

  it('envoyfilter: the same service in the filter configuration it carries', async () => {
    const run = await sergo('translate', global, '--format', 'envoyfilter', '--url', `oci://ghcr.io/x/sergo@sha256:${DIGEST}`, '--rls', `http://${RLS_HOST}:8080`, '--rls-timeout-ms', '50');
    expect(run.code).toBe(0);
    const config = JSON.parse(yamlOf(run.stdout).spec.configPatches[0].patch.value.typed_config.config.configuration.value);
    expect(schemaErrors(config)).toEqual([]);
    expect(config.rateLimitService).toEqual({ cluster: `outbound|8080||${RLS_HOST}`, authority: RLS_HOST, path: '/json', domain: 'sergo', timeoutMs: 50 });
  });

  it.each(['istio', 'envoyfilter'])('%s: needs --rls (or --rls-cluster) when a rule is Global', async (format) => {
    const run = await sergo('translate', global, '--format', format, ...(format === 'envoyfilter' ? ['--module', '/m.wasm'] : ['--url', 'oci://registry.local/sergo:test']));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual([
      `sergo: the rules have limitMode Global, counted by a rate-limit service: --format ${format} needs --rls http://HOST:PORT, the service as the proxies reach it (Istio names its cluster outbound|PORT||HOST), e.g. http://sergo-rls.sergo-system.svc.cluster.local:8080`,
    ]);
  });

  it('istio: Local-only output is unchanged by --rls (with a warning)', async () => {
    const plain = await sergo('translate', local, '--format', 'istio', '--url', 'oci://registry.local/sergo:test');
    const withRls = await sergo('translate', local, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--rls', `http://${RLS_HOST}:8080`);
    expect(withRls.stdout).toBe(plain.stdout);
    expect(lines(withRls.stderr)).toEqual(['sergo: warning: --rls ignored: no rule has limitMode Global']);
  });
});

describe('--rls… flag errors (exit 2, before reading files)', () => {
  it.each([
    [['--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--rls', 'http://sergo-rls:8080'], 'sergo: --rls: Istio names the cluster after the full host (outbound|PORT||HOST), so "sergo-rls" would name none: write the Service\'s full name, http://NAME.NAMESPACE.svc.cluster.local:PORT (or a ServiceEntry host)'],
    [['--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--rls', 'http://sergo-rls.sergo-system.svc:8080'], 'sergo: --rls: Istio names the cluster after the full host (outbound|PORT||HOST), so "sergo-rls.sergo-system.svc" would name none: write sergo-rls.sergo-system.svc.cluster.local (or your cluster domain)'],
    [['--format', 'envoyfilter', '--module', '/m.wasm', '--rls', 'http://10.1.2.3:8080'], 'sergo: --rls: Istio has no cluster for an IP address: write the Service\'s full name, http://NAME.NAMESPACE.svc.cluster.local:PORT (or a ServiceEntry host)'],
    [['--format', 'envoy', '--upstream', 'http://shop', '--rls', 'https://rls:8443'], 'sergo: --rls: "https://rls:8443": only http:// rate-limit service URLs are supported'],
    [['--format', 'envoy', '--upstream', 'http://shop', '--rls', 'http://rls:8080/json'], 'sergo: --rls: "http://rls:8080/json": the URL must not have a path, query or fragment (the filter posts to /json)'],
    [['--format', 'envoy', '--upstream', 'http://shop', '--rls', 'http://rls:8080', '--rls-cluster', 'upstream'], 'sergo: --rls-cluster: "upstream" is the cluster requests go to; choose another name'],
    [['--rls', 'http://rls:8080'], 'sergo: --rls does not apply to --format filter (only to envoy, istio, envoyfilter)'],
    [['--rls-timeout-ms', '2.5'], 'sergo: --rls-timeout-ms: "2.5" is not an integer in 1..60000 (milliseconds)'],
    [['--rls-authority', 'rls local'], 'sergo: --rls-authority: "rls local" must be 1 to 256 printable ASCII characters without spaces'],
  ])('rejects %j', async (args, message) => {
    const run = await sergo('translate', 'does-not-exist.yaml', ...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual([message]);
  });
});

describe('helpers', () => {
  it('istioServiceCluster and istioClusterHostProblem', () => {
    expect(istioServiceCluster({ host: RLS_HOST, port: 8080 })).toBe(`outbound|8080||${RLS_HOST}`);
    expect(istioClusterHostProblem(RLS_HOST)).toBeUndefined();
    expect(istioClusterHostProblem('rls.example.com')).toBeUndefined();
    expect(istioClusterHostProblem('::1')).toMatch(/IP address/);
  });

  it('parseRlsUrl', () => {
    expect(parseRlsUrl('http://rls:8080')).toEqual({ ok: true, value: { host: 'rls', port: 8080 } });
    expect(parseRlsUrl('http://rls')).toEqual({ ok: true, value: { host: 'rls', port: 80 } });
    expect(parseRlsUrl('rls:8080')).toMatchObject({ ok: false });
  });
});
