// TrafficRouter / DestinationRule validation (src/spec/traffic): every problem is an error with file,
// line, column, object and field; regexes are checked by RE2 (JavaScript-only syntax refused, RE2-only
// syntax accepted, a pattern that backtracks in JavaScript checked at once); a router with errors
// yields no deployment. Subsets: from the host's DestinationRule, else `version: <name>`.
import { describe, expect, it } from 'vitest';
import { positionOf } from '../support/workspace.ts';
import { translateInline } from '../support/translate.ts';
import { envoyTrafficProblems } from '../../src/emit/envoy-routes.ts';
import { emitEnvoyBootstrap } from '../../src/emit/envoy.ts';
import { Diagnostics } from '../../src/diagnostics.ts';
import { loadEndpoints } from '../../src/spec/traffic/endpoints.ts';

const head = 'apiVersion: traffic.opensergo.io/v1alpha1\nkind: TrafficRouter\nmetadata: { name: tr }\nspec:\n  hosts: [reviews]\n  http:\n';
const ROUTE = "      route: [{ destination: { host: reviews } }]\n";
const router = (entry: string) => `${head}${entry}`;

interface Case {
  title: string;
  yaml: string;
  /** Where the error points (first occurrence of this text). */
  at: string;
  field: string;
  message: string;
}

const cases: Case[] = [
  { title: 'a JavaScript look-ahead is not RE2', yaml: router(`    - match: [{ uri: { regex: '/a(?=b)' } }]\n${ROUTE}`), at: "'/a(?=b)'", field: 'spec.http[0].match[0].uri.regex', message: "'/a(?=b)' is not an RE2 regular expression: invalid perl operator: (?=" },
  { title: 'a back-reference is not RE2', yaml: router(`    - match: [{ headers: { x-a: { regex: '(a)\\1' } } }]\n${ROUTE}`), at: "'(a)", field: 'spec.http[0].match[0].headers.x-a.regex', message: 'is not an RE2 regular expression: invalid escape sequence: \\1' },
  { title: 'two kinds in one StringMatch', yaml: router(`    - match: [{ method: { exact: GET, prefix: G } }]\n${ROUTE}`), at: 'method', field: 'spec.http[0].match[0].method', message: 'sets exact and prefix: a StringMatch is one of exact, prefix, regex' },
  { title: 'an empty uri StringMatch', yaml: router(`    - match: [{ uri: {} }]\n${ROUTE}`), at: 'uri', field: 'spec.http[0].match[0].uri', message: 'must set one of exact, prefix, regex' },
  { title: 'a pseudo-header in headers', yaml: router(`    - match: [{ headers: { method: { exact: GET } } }]\n${ROUTE}`), at: 'method', field: 'spec.http[0].match[0].headers.method', message: "'method' is not matched as a header (Istio ignores it here): use match.method" },
  { title: 'no action', yaml: router('    - match: [{ uri: { prefix: /a } }]\n'), at: '- match', field: 'spec.http[0]', message: 'must set one of route, redirect, directResponse' },
  { title: 'route and redirect', yaml: router(`    - redirect: { uri: /b }\n${ROUTE}`), at: 'redirect', field: 'spec.http[0].redirect', message: 'cannot be combined with route' },
  { title: 'weights that sum to 0', yaml: router('    - route: [{ destination: { host: reviews, subset: v1 }, weight: 0 }, { destination: { host: reviews, subset: v2 } }]\n'), at: 'route', field: 'spec.http[0].route', message: 'the weights sum to 0' },
  { title: 'corsPolicy has no target', yaml: router(`    - corsPolicy: { allowOrigins: [{ exact: x }] }\n${ROUTE}`), at: 'corsPolicy', field: 'spec.http[0].corsPolicy', message: 'is not supported by sergo-wasm' },
  { title: 'tcp routes', yaml: `${head}${`    - ${ROUTE.trim()}`}\n  tcp: [{ route: [] }]\n`, at: 'tcp', field: 'spec.tcp', message: 'is not supported by sergo-wasm (only http routes are)' },
  { title: 'a bad duration', yaml: router(`    - timeout: 1.5\n${ROUTE}`), at: '1.5', field: 'spec.http[0].timeout', message: 'must be a string' },
  { title: 'a fractional millisecond', yaml: router(`    - timeout: 1500us\n${ROUTE}`), at: '1500us', field: 'spec.http[0].timeout', message: "'1500us' is not a whole number of milliseconds" },
  { title: 'a wildcard destination', yaml: router("    - route: [{ destination: { host: '*.shop' } }]\n"), at: "'*.shop'", field: 'spec.http[0].route[0].destination.host', message: "'*.shop' is not a service host name" },
  { title: 'a fallback to the destination itself', yaml: router('    - route: [{ destination: { host: reviews, subset: v1, fallback: { host: reviews, subset: v1 } } }]\n'), at: 'fallback', field: 'spec.http[0].route[0].destination.fallback', message: 'names the destination itself' },
  { title: 'no hosts', yaml: `apiVersion: traffic.opensergo.io/v1alpha1\nkind: TrafficRouter\nmetadata: { name: tr }\nspec:\n  hosts: []\n  http:\n    - ${ROUTE.trim()}\n`, at: '[]', field: 'spec.hosts', message: 'must not be empty' },
  {
    title: 'a subset the host\'s DestinationRule does not define',
    yaml: `apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: { name: dr }\nspec: { host: reviews.default.svc.cluster.local, subsets: [{ name: v1, labels: { version: v1 } }] }\n---\n${router('    - route: [{ destination: { host: reviews, subset: v9 } }]\n')}`,
    at: '{ host: reviews, subset: v9 }', field: 'spec.http[0].route[0].destination.subset', message: 'subset v9 of reviews.default.svc.cluster.local is not defined by DestinationRule dr',
  },
];

describe('TrafficRouter errors', () => {
  it.each(cases)('$title', async ({ yaml, at, field, message }) => {
    const result = await translateInline(yaml);
    expect(result.deployment).toBeUndefined();
    const pos = positionOf(yaml, at);
    const line = result.errorLines.find((l) => l.includes(`: ${field}: `));
    expect(result.errorLines, `no error on ${field}`).toContainEqual(line);
    expect(line).toContain(message);
    expect(line!.startsWith(`${result.paths['rules.yaml']}:${pos.line}:`)).toBe(true);
    expect(line).toContain('TrafficRouter/tr: ');
  });

  it('RE2-only syntax is accepted; a pattern that backtracks catastrophically in JavaScript is checked at once', async () => {
    const evil = `(${'a+'.repeat(2)})+$`;
    const yaml = router(`    - match: [{ uri: { regex: '/(?P<id>[[:alpha:]]+)\\pL' } }, { headers: { x-a: { regex: '${evil}' } } }]\n${ROUTE}`);
    const result = await translateInline(yaml);
    expect(result.errorLines).toEqual([]);
    const blocks = result.deployment!.traffic!.routers[0]!.http[0]!.match;
    expect(blocks.map((b) => b.uri?.value ?? b.headers[0]!.match!.value)).toEqual(['/(?P<id>[[:alpha:]]+)\\pL', evil]);
  });

  it('header values written as YAML numbers are text; names are lower-cased; an empty value is presence', async () => {
    const result = await translateInline(router(`    - match: [{ headers: { X-User-Id: { exact: 12345 }, X-Beta: {}, x-gamma: } }]\n${ROUTE}`));
    expect(result.errorLines).toEqual([]);
    const headers = result.deployment!.traffic!.routers[0]!.http[0]!.match[0]!.headers.map((h) => [h.name, h.match?.value]);
    expect(headers).toEqual([['x-user-id', '12345'], ['x-beta', undefined], ['x-gamma', undefined]]);
  });

  it('a DestinationRule defines subsets; without one a subset selects version: <name>; one DestinationRule per host', async () => {
    const dr = (name: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ${name} }\nspec: { host: reviews, subsets: [{ name: blue, labels: { colour: blue } }] }\n`;
    const yaml = `${dr('a')}---\n${router('    - route: [{ destination: { host: reviews, subset: blue }, weight: 1 }, { destination: { host: ratings, subset: v2 }, weight: 1 }]\n')}`;
    const ok = await translateInline(yaml);
    expect(ok.errorLines).toEqual([]);
    expect(ok.deployment!.traffic!.subsets.map((s) => [s.host, s.name, s.labels, s.source])).toEqual([
      ['ratings.default.svc.cluster.local', 'v2', { version: 'v2' }, 'default'],
      ['reviews.default.svc.cluster.local', 'blue', { colour: 'blue' }, 'DestinationRule'],
    ]);
    const twice = await translateInline(`${dr('a')}---\n${dr('b')}---\n${router(ROUTE.replace('      route', '    - route'))}`);
    const at = positionOf(`${dr('a')}---\n${dr('b')}`, 'host: reviews', 2);
    expect(twice.errorLines).toEqual([
      `${twice.paths['rules.yaml']}:${at.line}:${at.col + 6}: DestinationRule/b: spec.host: reviews.default.svc.cluster.local already has DestinationRule a (${twice.paths['rules.yaml']}:3:19); sergo-wasm takes one per host`,
    ]);
  });
});

describe('--format envoy: what the bootstrap cannot do is refused before anything is emitted', () => {
  const endpoints = (text: string) => loadEndpoints('e.yaml', text, 'default', new Diagnostics())!;

  it('routers need --endpoints, and every host they route to must be listed', async () => {
    const result = await translateInline(router('    - route: [{ destination: { host: reviews }, weight: 1 }, { destination: { host: ratings }, weight: 1 }]\n'));
    const traffic = result.deployment!.traffic!;
    expect(envoyTrafficProblems(traffic, undefined)).toEqual(['the input has TrafficRouters: --format envoy needs --endpoints FILE, the addresses and labels of each host (docs/traffic.md)']);
    expect(envoyTrafficProblems(traffic, endpoints('reviews: []\n'))).toEqual(['--endpoints: no entry for ratings.default.svc.cluster.local, which a TrafficRouter routes to']);
    expect(envoyTrafficProblems(traffic, endpoints('reviews: []\nratings: []\n'))).toEqual([]);
  });

  it('rewrite.uri needs an exact or prefix uri match; two routers cannot share a host', async () => {
    const yaml = router(`    - match: [{ uri: { regex: '/a.*' } }]\n      rewrite: { uri: /b }\n${ROUTE}`) + '---\n' + router(ROUTE.replace('      route', '    - route')).replace('name: tr', 'name: tr2');
    const result = await translateInline(yaml);
    const problems = envoyTrafficProblems(result.deployment!.traffic!, endpoints('reviews: []\n'));
    const file = result.paths['rules.yaml'];
    const rewrite = positionOf(yaml, 'rewrite');
    const second = positionOf(yaml, 'tr2');
    expect(problems).toEqual([
      `${file}:${rewrite.line}:${rewrite.col}: TrafficRouter/tr: spec.http[0].rewrite: rewrite.uri in --format envoy needs every match block to match uri by exact or prefix (what it replaces); use rewrite.uriRegexRewrite`,
      `${file}:${second.line}:${second.col}: TrafficRouter/tr2: spec.hosts: reviews, reviews.default, reviews.default.svc, reviews.default.svc.cluster.local are hosts of TrafficRouter/tr too (${file}:3:19); one router per host`,
    ]);
  });
});

describe('--format envoy: virtual hosts', () => {
  it('a router of host * replaces the default virtual host (Envoy refuses a domain twice)', async () => {
    const result = await translateInline(router(ROUTE.replace('      route', '    - route')).replace('hosts: [reviews]', "hosts: ['*']"));
    const endpoints = loadEndpoints('e.yaml', 'reviews: []\n', 'default', new Diagnostics())!;
    const bootstrap = emitEnvoyBootstrap(result.deployment!, {
      listen: { host: '127.0.0.1', port: 1 }, admin: { host: '127.0.0.1', port: 2 }, upstream: { host: '127.0.0.1', port: 3 }, modulePath: 'm.wasm', failPolicy: 'closed', endpoints,
    });
    const hosts = bootstrap.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.route_config.virtual_hosts;
    expect(hosts.map((h) => [h.name, h.domains])).toEqual([['default/tr', ['*']]]);
  });
});
