// gRPC and the emitted Envoy bootstrap: `--upstream-protocol http2` makes the upstream cluster speak
// HTTP/2 (prior knowledge), which gRPC needs; the default stays Envoy's HTTP/1.1. A fallback's
// grpcStatus travels inside the filter configuration unchanged. Real Envoy: test/envoy/grpc.test.ts.
import { describe, expect, it } from 'vitest';
import { planFormat } from '../../src/cli/formats.ts';
import { emitEnvoyBootstrap, type Cluster, type EnvoyBootstrapOptions } from '../../src/emit/envoy.ts';
import { fallbackAction, join, rateLimit, rule } from '../support/documents.ts';
import { translateInline } from '../support/translate.ts';
import { bootstrapSchemaErrors } from './helpers.ts';

const OPTIONS: EnvoyBootstrapOptions = {
  listen: { host: '0.0.0.0', port: 10000 },
  admin: { host: '127.0.0.1', port: 9901 },
  upstream: { host: 'app', port: 8080 },
  modulePath: '/etc/envoy/sergo.wasm',
  failPolicy: 'closed',
};

async function grpcConfig() {
  const fb = fallbackAction('fb', 'behavior: ReturnProvidedResponse\nbehaviorDesc:\n  responseStatusCode: 429\n  responseGrpcStatus: UNAVAILABLE');
  const result = await translateInline(join(rateLimit('rl'), fb, rule('r', 'app-a', ['pkg.Svc/Call'], ['rl'], { fallback: 'fb' })));
  expect(result.errorLines).toEqual([]);
  return result.deployment!;
}

describe('--upstream-protocol', () => {
  it('http2: the upstream cluster gets HttpProtocolOptions with explicit HTTP/2; the schema accepts it', async () => {
    const bootstrap = emitEnvoyBootstrap(await grpcConfig(), { ...OPTIONS, upstreamProtocol: 'http2' });
    const upstream = bootstrap.static_resources.clusters.find((c) => c.name === 'upstream')! as Cluster;
    expect(upstream.typed_extension_protocol_options).toEqual({
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    });
    expect(bootstrapSchemaErrors(bootstrap)).toEqual([]);
  });

  it('http1 and the default emit no protocol options (Envoy\'s HTTP/1.1)', async () => {
    const config = await grpcConfig();
    for (const options of [OPTIONS, { ...OPTIONS, upstreamProtocol: 'http1' as const }]) {
      const upstream = emitEnvoyBootstrap(config, options).static_resources.clusters.find((c) => c.name === 'upstream')!;
      expect('typed_extension_protocol_options' in upstream).toBe(false);
    }
  });

  it('the flag: http1 or http2, only with --format envoy', () => {
    const base = { format: 'envoy', upstream: 'http://app:8080' } as const;
    const planned = planFormat({ ...base, upstreamProtocol: 'http2' });
    expect(planned.ok && planned.value.format === 'envoy' && planned.value.options.upstreamProtocol).toBe('http2');
    expect(planFormat({ format: 'filter', upstreamProtocol: 'http2' })).toEqual({
      ok: false, errors: ['--upstream-protocol does not apply to --format filter (only to envoy)'],
    });
  });

  it('the filter configuration inside carries the gRPC resource and the fallback\'s grpcStatus', async () => {
    const bootstrap = emitEnvoyBootstrap(await grpcConfig(), { ...OPTIONS, upstreamProtocol: 'http2' });
    const hcm = bootstrap.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
    const wasm = hcm.http_filters[0]!.typed_config as unknown as { config: { configuration: { value: string } } };
    const rules = JSON.parse(wasm.config.configuration.value).rules;
    expect(rules[0]).toMatchObject({ resource: '/pkg.Svc/Call', fallback: { status: 429, grpcStatus: 14 } });
  });
});
