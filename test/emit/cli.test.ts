// `sergo translate --format …`: flags, defaults, errors (stderr, exit 2, nothing written).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderFilterConfig } from '../../src/emit/filter.ts';
import { packageVersion } from '../../src/version.ts';
import { lines, runSergo } from '../support/cli.ts';
import { join as joinDocs, rateLimit, rule } from '../support/documents.ts';
import { writeFiles } from '../support/workspace.ts';
import { allStrategies, bootstrapSchemaErrors, sergo } from './helpers.ts';

const DIGEST = 'c'.repeat(64);
const files = writeFiles({
  'shop.yaml': allStrategies('prod'),
  'two-namespaces.yaml': joinDocs(
    rateLimit('rl', undefined, { namespace: 'a' }),
    rateLimit('rl', undefined, { namespace: 'b' }),
    rule('ra', 'shop', ['/a'], ['rl'], { namespace: 'a' }),
    rule('rb', 'shop', ['/b'], ['rl'], { namespace: 'b' }),
  ),
  'odd-app.yaml': joinDocs(rateLimit('rl'), rule('r', 'Shop_App', ['/a'], ['rl'])),
  'empty.yaml': 'apiVersion: v1\nkind: List\nitems: []\n', // kubectl get -o yaml of nothing
});
const shop = files['shop.yaml']!;

function yamlOf(text: string): any {
  return parseYaml(text);
}

describe('sergo translate --format', () => {
  it('defaults to the filter JSON, unchanged', async () => {
    const plain = await sergo('translate', shop);
    const explicit = await sergo('translate', '--format', 'filter', shop);
    expect(plain.code).toBe(0);
    expect(explicit.stdout).toBe(plain.stdout);
    expect(plain.stdout).toBe(renderFilterConfig(JSON.parse(plain.stdout)));
  });

  it('envoy: a bootstrap from the flags, with defaults', async () => {
    const run = await sergo('translate', shop, '--format', 'envoy', '--upstream', 'http://shop:8080');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const bootstrap = yamlOf(run.stdout);
    expect(bootstrapSchemaErrors(bootstrap)).toEqual([]);
    expect(bootstrap.admin.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 9901 });
    expect(bootstrap.static_resources.listeners[0].address.socket_address).toEqual({ address: '0.0.0.0', port_value: 10000 });
    const plugin = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
    expect(plugin.vm_config.code.local.filename).toBe('/etc/envoy/sergo.wasm');
    expect(plugin.failure_policy).toBe('FAIL_CLOSED');
    expect(JSON.parse(plugin.configuration.value)).toEqual(JSON.parse((await sergo('translate', shop)).stdout));
  });

  it('envoy: --listen, --admin, --module, --fail-policy', async () => {
    const run = await sergo(
      'translate', shop, '--format', 'envoy', '--upstream', 'http://10.0.0.1:9000',
      '--listen', '[::]:8000', '--admin', '0.0.0.0:9000', '--module', 'build/sergo.wasm', '--fail-policy', 'open',
    );
    expect(run.code).toBe(0);
    const bootstrap = yamlOf(run.stdout);
    expect(bootstrap.static_resources.listeners[0].address.socket_address).toEqual({ address: '::', port_value: 8000 });
    expect(bootstrap.admin.address.socket_address).toEqual({ address: '0.0.0.0', port_value: 9000 });
    expect(bootstrap.static_resources.clusters[0].type).toBe('STATIC');
    const plugin = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
    expect(plugin.vm_config.code.local.filename).toBe('build/sergo.wasm');
    expect(plugin.failure_policy).toBe('FAIL_OPEN');
  });

  it('istio: --url is required (exit 2, before any file is read): there is no default image', async () => {
    const run = await sergo('translate', 'no-such-file.yaml', '--format', 'istio');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual([
      `sergo: --format istio needs --url: where the proxies fetch the module, e.g. oci://REGISTRY/sergo-wasm:${packageVersion()} after \`sergo package\` and a push (README, Deploy)`,
    ]);
  });

  it('istio: a WasmPlugin in the rules\' namespace named after the app', async () => {
    const run = await sergo('translate', shop, '--format', 'istio', '--url', 'oci://registry.local/sergo:test');
    expect(run.code).toBe(0);
    const manifest = yamlOf(run.stdout);
    expect(manifest.metadata).toEqual({ name: 'sergo-shop', namespace: 'prod' });
    expect(manifest.spec.url).toBe('oci://registry.local/sergo:test');
    expect(manifest.spec.failStrategy).toBe('FAIL_CLOSE');
    expect(manifest.spec.pluginConfig).toEqual(JSON.parse((await sergo('translate', shop)).stdout));
  });

  it('istio: --name, --url, --sha256, --phase, --priority, --fail-policy, --traffic', async () => {
    const run = await sergo(
      'translate', shop, '--format', 'istio', '--name', 'limits', '--url', 'oci://registry.local/sergo:dev',
      '--sha256', `sha256:${DIGEST}`, '--phase', 'AUTHZ', '--priority', '10', '--fail-policy', 'open', '--traffic', 'gateway',
    );
    expect(run.code).toBe(0);
    expect(yamlOf(run.stdout).spec).toMatchObject({
      url: 'oci://registry.local/sergo:dev', sha256: DIGEST, phase: 'AUTHZ', priority: 10, failStrategy: 'FAIL_OPEN', match: [{ mode: 'CLIENT' }],
    });
    expect(yamlOf(run.stdout).metadata.name).toBe('limits');
  });

  it('istio: --namespace when there are no rules, --app required then', async () => {
    const noApp = await sergo('translate', files['empty.yaml']!, '--format', 'istio', '--url', 'oci://registry.local/sergo:test');
    expect(noApp.code).toBe(2);
    expect(noApp.stdout).toBe('');
    expect(lines(noApp.stderr)).toEqual(['sergo: --format istio selects the pods of one app, but the files hold no FaultToleranceRule; name the app with --app']);
    const run = await sergo('translate', files['empty.yaml']!, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--app', 'shop', '--namespace', 'staging', '--allow-empty');
    expect(run.code).toBe(0);
    expect(yamlOf(run.stdout).metadata).toEqual({ name: 'sergo-shop', namespace: 'staging' });
    expect(yamlOf(run.stdout).spec.pluginConfig).toEqual({ version: 1, rules: [] });
  });

  it('istio: rules in several namespaces, or an app that makes no valid name, are errors', async () => {
    const split = await sergo('translate', files['two-namespaces.yaml']!, '--format', 'istio', '--url', 'oci://registry.local/sergo:test');
    expect(split.code).toBe(2);
    expect(split.stdout).toBe('');
    expect(lines(split.stderr)).toEqual([
      "sergo: the rules of app shop are in several namespaces (a, b); a WasmPlugin applies in one namespace: translate each namespace's files separately",
    ]);
    const odd = await sergo('translate', files['odd-app.yaml']!, '--format', 'istio', '--url', 'oci://registry.local/sergo:test');
    expect(odd.code).toBe(2);
    expect(lines(odd.stderr)).toEqual(['sergo: the default name "sergo-Shop_App" is not a valid Kubernetes name (lower-case RFC 1123 subdomain); choose one with --name']);
    expect((await sergo('translate', files['odd-app.yaml']!, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--name', 'sergo-shop-app')).code).toBe(0);
  });

  it('envoyfilter: module from --url (with --sha256) or --module', async () => {
    const remote = await sergo('translate', shop, '--format', 'envoyfilter', '--url', 'https://example.com/sergo.wasm', '--sha256', DIGEST);
    expect(remote.code).toBe(0);
    const manifest = yamlOf(remote.stdout);
    expect(manifest.kind).toBe('EnvoyFilter');
    expect(manifest.metadata).toEqual({ name: 'sergo-shop', namespace: 'prod' });
    expect(manifest.spec.configPatches[0].patch.value.typed_config.config.vm_config.code.remote.sha256).toBe(DIGEST);
    const pinned = await sergo('translate', shop, '--format', 'envoyfilter', '--url', `oci://ghcr.io/x/sergo@sha256:${DIGEST}`);
    expect(pinned.code).toBe(0);
    expect(yamlOf(pinned.stdout).spec.configPatches[0].patch.value.typed_config.config.vm_config.code.remote.sha256).toBe(DIGEST);
    const local = await sergo('translate', shop, '--format', 'envoyfilter', '--module', '/var/local/sergo.wasm');
    expect(yamlOf(local.stdout).spec.configPatches[0].patch.value.typed_config.config.vm_config.code).toEqual({ local: { filename: '/var/local/sergo.wasm' } });
    const file = await sergo('translate', shop, '--format', 'envoyfilter', '--url', 'file:///var/local/sergo.wasm');
    expect(file.stdout).toBe(local.stdout);
  });

  it.each([
    [['--format', 'envoy'], 'sergo: --format envoy needs --upstream http://HOST:PORT (where Envoy sends the requests)'],
    [['--format', 'envoy', '--upstream', 'https://shop'], 'sergo: --upstream: "https://shop": only http:// upstreams are supported'],
    [['--format', 'envoy', '--upstream', 'http://shop', '--listen', 'localhost:80'], 'sergo: --listen: "localhost" is not an IP address (Envoy binds to an address, it does not resolve names)'],
    [['--format', 'envoy', '--upstream', 'http://shop', '--url', 'oci://x/y'], 'sergo: --url does not apply to --format envoy (only to istio, envoyfilter)'],
    [['--upstream', 'http://shop'], 'sergo: --upstream does not apply to --format filter (only to envoy)'],
    [['--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--priority', '1.5'], 'sergo: --priority: "1.5" is not an integer in -2147483648..2147483647'],
    [['--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--sha256', 'xyz'], 'sergo: --sha256: "xyz" is not a SHA-256 digest (64 hex digits, optionally prefixed sha256:)'],
    [['--format', 'istio', '--url', `oci://x/y@sha256:${'d'.repeat(64)}`, '--sha256', DIGEST], `sergo: --sha256 ${DIGEST} differs from the digest in --url (@sha256:${'d'.repeat(64)})`],
    [['--format', 'istio', '--url', 'ghcr.io/x/sergo:1'], 'sergo: --url: "ghcr.io/x/sergo:1" must start with oci://, file://, http:// or https://'],
    [['--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--name', 'Bad_Name'], 'sergo: --name: "Bad_Name" is not a valid Kubernetes name (lower-case RFC 1123 subdomain)'],
    [['--format', 'envoyfilter'], 'sergo: --format envoyfilter needs the module: --url (oci://, http:// or https:// with --sha256, or file:///path) or --module /path/in/the/proxy'],
    [['--format', 'envoyfilter', '--url', 'https://example.com/sergo.wasm'], 'sergo: --url https://… needs --sha256 (Envoy verifies remote modules; `sergo package` prints the digests)'],
    [['--format', 'envoyfilter', '--module', 'sergo.wasm'], 'sergo: --module: "sergo.wasm" must be an absolute path inside the proxy container'],
    [['--format', 'envoyfilter', '--module', '/m.wasm', '--url', 'file:///m.wasm'], 'sergo: --url and --module are alternatives: give one'],
  ])('rejects %j (exit 2, nothing on stdout, nothing written)', async (args, message) => {
    const out = join(writeFiles({}).dir, 'out.yaml');
    const run = await sergo('translate', shop, '-o', out, ...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual([message]);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects an unknown --format or --fail-policy through commander (exit 2)', async () => {
    const format = await sergo('translate', shop, '--format', 'helm');
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/--format <format>' argument 'helm' is invalid. Allowed choices are filter, envoy, istio, envoyfilter/);
    expect((await sergo('translate', shop, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--fail-policy', 'reload')).code).toBe(2);
  });

  it('writes -o atomically and reports rule errors before format errors', async () => {
    const out = join(writeFiles({}).dir, 'wasmplugin.yaml');
    const run = await sergo('translate', shop, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '-o', out);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe((await sergo('translate', shop, '--format', 'istio', '--url', 'oci://registry.local/sergo:test')).stdout);
    const bad = writeFiles({ 'bad.yaml': joinDocs(rateLimit('rl', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: -1\nstatDurationSeconds: 1'), rule('r', 'shop', ['/a'], ['rl'])) });
    const invalid = await sergo('translate', bad['bad.yaml']!, '--format', 'istio', '--url', 'oci://registry.local/sergo:test');
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toBe('');
    expect(lines(invalid.stderr)[0]).toMatch(/bad\.yaml:\d+:\d+: RateLimitStrategy\/rl: spec\.threshold: /);
  });

  it('works through the real binary', async () => {
    const run = await runSergo(['translate', shop, '--format', 'envoy', '--upstream', 'http://shop:8080']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe((await sergo('translate', shop, '--format', 'envoy', '--upstream', 'http://shop:8080')).stdout);
  });
});
