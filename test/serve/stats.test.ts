// Unit tests of the admin views: tag decoding, Prometheus text, plain /stats.
import { describe, expect, it } from 'vitest';
import { decodeStatName, escapeLabelValue, renderPrometheus } from '../../src/serve/index.ts';
import { renderPlain } from '../../src/serve/stats.ts';
import { parseListen, parseServiceUrl } from '../../src/serve/address.ts';

describe('stats rendering', () => {
  it('decodes Istio-style tags out of the name', () => {
    expect(decodeStatName('sergo.sergo_rule=.=ns/app/r/K/s@GET:/a/{id};.;sergo_resource=.=GET:/a/{id};.;sergo_strategy=.=RateLimit;.;requests_passed')).toEqual({
      name: 'sergo.requests_passed',
      labels: [
        ['sergo_rule', 'ns/app/r/K/s@GET:/a/{id}'],
        ['sergo_resource', 'GET:/a/{id}'],
        ['sergo_strategy', 'RateLimit'],
      ],
    });
    expect(decodeStatName('sergo.cas_exhausted')).toEqual({ name: 'sergo.cas_exhausted', labels: [] });
  });

  it('renders families with one # TYPE line, sorted, label values escaped', () => {
    const text = renderPrometheus([
      { name: 'sergo.sergo_rule=.=b;.;requests_passed', type: 'counter', value: 2n },
      { name: 'sergo.cas_exhausted', type: 'counter', value: 0n },
      { name: 'sergo.sergo_rule=.=a "q" \\ x\ny;.;requests_passed', type: 'counter', value: 1n },
      { name: 'sergo.sergo_rule=.=a;.;breaker_state', type: 'gauge', value: 1n },
      { name: 'sergo.serve.upstream_errors_total', type: 'counter', value: 3n, labels: { reason: 'connect' } },
      { name: 'x.h', type: 'histogram', value: 10n, count: 4 },
    ]);
    expect(text).toBe(
      [
        '# TYPE sergo_breaker_state gauge',
        'sergo_breaker_state{sergo_rule="a"} 1',
        '# TYPE sergo_cas_exhausted counter',
        'sergo_cas_exhausted 0',
        '# TYPE sergo_requests_passed counter',
        'sergo_requests_passed{sergo_rule="a \\"q\\" \\\\ x\\ny"} 1',
        'sergo_requests_passed{sergo_rule="b"} 2',
        '# TYPE sergo_serve_upstream_errors_total counter',
        'sergo_serve_upstream_errors_total{reason="connect"} 3',
        '# TYPE x_h summary',
        'x_h_sum 10',
        'x_h_count 4',
        '',
      ].join('\n'),
    );
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it('plain /stats keeps the names as defined', () => {
    expect(
      renderPlain([
        { name: 'sergo.b', type: 'counter', value: 1n },
        { name: 'sergo.serve.upstream_errors_total', type: 'counter', value: 3n, labels: { reason: 'timeout' } },
        { name: 'sergo.a', type: 'gauge', value: 2n },
      ]),
    ).toBe('sergo.a: 2\nsergo.b: 1\nsergo.serve.reason=.=timeout;.;upstream_errors_total: 3\n');
  });

  it('parses listen addresses and service URLs', () => {
    expect(parseListen('127.0.0.1:10000')).toEqual({ host: '127.0.0.1', port: 10000 });
    expect(parseListen(':0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('[::1]:9901')).toEqual({ host: '::1', port: 9901 });
    expect(() => parseListen('localhost')).toThrow(/expected HOST:PORT/);
    expect(() => parseListen('a:70000')).toThrow();
    expect(parseServiceUrl('http://127.0.0.1:8080').port).toBe('8080');
    expect(() => parseServiceUrl('http://u:p@x')).toThrow(/credentials/);
    expect(() => parseServiceUrl('nope')).toThrow(/not a URL/);
  });
});
