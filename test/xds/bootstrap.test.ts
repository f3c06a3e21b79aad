// `sergo translate --format envoy --xds HOST:PORT`: the ECDS bootstrap (schema, fields, Envoy's own
// validation), its refusals, and `limitMode: GlobalToLocal`, which only `sergo xds` can enforce.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { bootstrapSchemaErrors, sergo } from '../emit/helpers.ts';
import { envoyBinary, SERGO_WASM } from '../envoy/harness.ts';
import { requireComponent } from '../support/components.ts';
import { ENVOY_INSTALL } from '../../src/envoy/index.ts';
import { loadCatalog, instanceConfig, share } from '../../src/xds/catalog.ts';
import { limitRules, RulesDir } from './support.ts';

const dir = new RulesDir();
afterAll(() => dir.remove());
const FOO = dir.save('foo.yaml', limitRules('foo', [{ name: 'limit', resource: '/a', threshold: 5 }], 'shop'));
const base = ['translate', FOO, '--format', 'envoy', '--upstream', 'http://127.0.0.1:8080'];

type Bootstrap = ReturnType<typeof parseYaml> & Record<string, any>;

async function bootstrap(...more: string[]): Promise<Bootstrap> {
  const run = await sergo(...base, ...more);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return parseYaml(run.stdout) as Bootstrap;
}

describe('sergo translate --format envoy --xds', () => {
  it('subscribes the sergo filter to sergo/<namespace>/<app> over ADS, with a static HTTP/2 cluster', async () => {
    const b = await bootstrap('--xds', '10.0.0.7:18000');
    expect(bootstrapSchemaErrors(b)).toEqual([]);
    expect(b.node).toEqual({ id: 'foo.shop', cluster: 'foo' });
    expect(b.dynamic_resources.ads_config).toMatchObject({ api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'sergo_xds' } }] });
    const hcm = b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    const [filter, router] = hcm.http_filters;
    expect(router.name).toBe('envoy.filters.http.router');
    expect(filter.name).toBe('sergo/shop/foo');
    expect(filter.typed_config).toBeUndefined();
    expect(filter.config_discovery).toMatchObject({
      config_source: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '5s' },
      apply_default_config_without_warming: false,
      type_urls: ['type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm'],
    });
    const cluster = b.static_resources.clusters.find((c: { name: string }) => c.name === 'sergo_xds');
    expect(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({ address: '10.0.0.7', port_value: 18000 });
    expect(cluster.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config).toEqual({ http2_protocol_options: {} });
  });

  it('runs a default before the first answer: closed blocks every path with 503, open applies no rule', async () => {
    const closed = (await bootstrap('--xds', '127.0.0.1:18000')).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0];
    const closedConfig = closed.config_discovery.default_config.config;
    expect(closedConfig.failure_policy).toBe('FAIL_CLOSED');
    expect(JSON.parse(closedConfig.configuration.value).rules).toEqual([expect.objectContaining({ resource: '/**', strategy: { kind: 'RateLimit', threshold: 0, windowMs: 1000 }, fallback: expect.objectContaining({ status: 503 }) })]);
    const open = (await bootstrap('--xds', '127.0.0.1:18000', '--fail-policy', 'open')).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0];
    const openConfig = open.config_discovery.default_config.config;
    expect(openConfig.failure_policy).toBe('FAIL_OPEN');
    expect(JSON.parse(openConfig.configuration.value)).toEqual({ version: 1, rules: [] });
  });

  it('reaches the server by DNS name too (STRICT_DNS)', async () => {
    const b = await bootstrap('--xds', 'sergo-xds.sergo-system.svc:18000');
    expect(bootstrapSchemaErrors(b)).toEqual([]);
    expect(b.static_resources.clusters.find((c: { name: string }) => c.name === 'sergo_xds').type).toBe('STRICT_DNS');
  });

  it.skipIf(!requireComponent('test/xds/bootstrap.test.ts', 'Envoy', envoyBinary().path !== undefined, ENVOY_INSTALL))('is a bootstrap Envoy itself accepts (envoy --mode validate)', async () => {
    const file = dir.file('bootstrap.yaml');
    expect((await sergo(...base, '--xds', '127.0.0.1:18000', '--module', SERGO_WASM, '-o', file)).code).toBe(0);
    // Exit code 0: the bootstrap parses, and the default configuration loads the module and is accepted.
    const out = execFileSync(envoyBinary().path!, ['--mode', 'validate', '-c', file, '--disable-hot-restart'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain(`configuration '${file}' OK`);
  });

  it('refuses a bad address, another format, and rules of no app', async () => {
    expect((await sergo(...base, '--xds', 'nowhere')).stderr).toContain('--xds: "nowhere" is not HOST:PORT');
    expect((await sergo(...base, '--xds', '127.0.0.1:70000')).stderr).toContain('--xds: port 70000 is not in 1..65535');
    const istio = await sergo('translate', FOO, '--format', 'istio', '--url', 'oci://registry.local/sergo:test', '--xds', '127.0.0.1:18000');
    expect(istio.stderr).toContain('--xds does not apply to --format istio (only to envoy)');
    const empty = dir.save('empty.yaml', 'apiVersion: v1\nkind: List\nitems: []\n'); // no object: kubectl get -o yaml of nothing
    const none = await sergo('translate', empty, '--format', 'envoy', '--upstream', 'http://127.0.0.1:8080', '--xds', '127.0.0.1:18000');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('name the app with --app');
  });
});

describe('limitMode GlobalToLocal', () => {
  const shared = dir.save('shared.yaml', limitRules('foo', [{ name: 'budget', resource: '/a', threshold: 7, mode: 'GlobalToLocal' }]));

  it('is refused by sergo translate (it cannot know the number of instances), at file:line:col', async () => {
    const run = await sergo('translate', shared);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(new RegExp(`${shared.replace(/[.]/g, '\\.')}:4:\\d+: RateLimitStrategy/budget: spec.limitMode: GlobalToLocal divides the threshold by the number of running instances, which only \`sergo xds\` knows`));
  });

  it('is accepted with --xds (the bootstrap carries no rules; sergo xds divides the budget)', async () => {
    const run = await sergo('translate', shared, '--format', 'envoy', '--upstream', 'http://127.0.0.1:8080', '--xds', '127.0.0.1:18000');
    expect(run.code).toBe(0);
    expect(parseYaml(run.stdout).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].name).toBe('sergo/default/foo');
  });

  it('is valid OpenSergo for sergo validate, and refused on a ConcurrencyLimitStrategy', async () => {
    expect((await sergo('validate', shared)).code).toBe(0);
    const concurrency = dir.save('conc.yaml', 'apiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: ConcurrencyLimitStrategy\nmetadata: { name: c }\nspec: { maxConcurrency: 4, limitMode: GlobalToLocal }\n');
    expect((await sergo('validate', concurrency)).stderr).toContain('limitMode GlobalToLocal is supported for RateLimitStrategy only');
  });

  it('is split by sergo xds so that the shares add up to the budget exactly', async () => {
    for (const budget of [0, 1, 2, 7, 10, 1000]) {
      for (let n = 1; n <= 5; n++) {
        const shares = Array.from({ length: n }, (_, rank) => share(budget, rank, n));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(budget);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }
    }
    const loaded = await loadCatalog([shared]);
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    const app = loaded.catalog.apps.get('sergo/default/foo')!;
    expect(app.shared).toEqual([{ index: 0, threshold: 7 }]);
    const thresholds = [0, 1, 2].map((rank) => instanceConfig(app, rank, 3).rules[0]!.strategy);
    expect(thresholds).toEqual([3, 2, 2].map((threshold) => ({ kind: 'RateLimit', threshold, windowMs: 60_000 })));
  });
});
