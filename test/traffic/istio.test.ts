// `sergo translate --format istio` with TrafficRouters: a VirtualService per router and the
// DestinationRules (given ones passed through, default subsets generated), each validated against
// Istio's schema (@kubernetes-models/istio); the VirtualService read back as a TrafficRouter gives the
// same output (nothing lost); fallback is refused with its position; with rules, the WasmPlugin first.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { lines, runSergo } from '../support/cli.ts';
import { rateLimit, rule, join as joinDocs } from '../support/documents.ts';
import { positionOf, writeFiles } from '../support/workspace.ts';
import { unknownFields } from './istio-schema.ts';
import { DETAILS_ROUTER, REVIEWS_ROUTER, REVIEWS_SUBSETS } from './routers.ts';

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> };

async function istio(files: Record<string, string>, more: string[] = []) {
  const paths = writeFiles(files);
  const run = await runSergo(['translate', ...Object.keys(files).map((f) => paths[f]!), '--format', 'istio', '--url', 'oci://example.com/sergo:1', ...more]);
  const docs = run.code === 0 ? parseAllDocuments(run.stdout).map((d) => d.toJS() as Manifest) : [];
  return { run, docs, paths };
}

/** networking.istio.io v1 is v1beta1 promoted unchanged; the models know v1beta1. */
function validate(m: Manifest): void {
  const asBeta = { ...m, apiVersion: m.apiVersion.replace(/\/v1$/, '/v1beta1') };
  if (m.kind === 'VirtualService') new VirtualService(asBeta as never).validate();
  else if (m.kind === 'DestinationRule') new DestinationRule(asBeta as never).validate();
  else throw new Error(`unexpected kind ${m.kind}`);
  // validate() accepts unknown fields; Istio would prune them silently.
  expect(unknownFields(m), `${m.kind}/${m.metadata.name}`).toEqual([]);
}

describe('--format istio: TrafficRouter → VirtualService', () => {
  it('the unknown-field check finds a misspelled field (what Istio would prune)', () => {
    expect(unknownFields({ kind: 'VirtualService', spec: { hosts: ['a'], http: [{ rout: [], match: [{ headers: { x: {} } }] }] } })).toEqual(['spec.http[0].rout']);
  });

  it('one VirtualService per router and the DestinationRule as given, each valid for Istio', async () => {
    const { run, docs } = await istio({ 'r.yaml': [REVIEWS_SUBSETS, REVIEWS_ROUTER].join('---\n') });
    expect(run.stderr).toBe('');
    expect(docs.map((d) => `${d.kind}/${d.metadata.namespace}/${d.metadata.name}`)).toEqual(['VirtualService/default/reviews', 'DestinationRule/default/reviews']);
    for (const doc of docs) validate(doc);
    const given = parseAllDocuments(REVIEWS_SUBSETS)[0]!.toJS() as Manifest;
    expect(docs[1]).toEqual({ ...given, metadata: { name: 'reviews', namespace: 'default' } });
    const http = docs[0]!.spec.http as Array<Record<string, unknown>>;
    // Order kept (first match wins in Istio too), OR blocks kept, presence as an empty StringMatch.
    expect(http.map((h) => h.name)).toEqual((parseAllDocuments(REVIEWS_ROUTER)[0]!.toJS().spec.http as Array<{ name: string }>).map((h) => h.name));
    expect(http.find((h) => h.name === 'and-or')!.match).toEqual([{ headers: { 'x-user': { exact: 'alice' }, 'x-beta': {} } }, { queryParams: { tag: { exact: 'v2' } } }]);
    expect(http.find((h) => h.name === 're2-only')!.match).toEqual([{ uri: { regex: '/re2/(?P<id>[[:digit:]]+)\\pN*' } }]);
    expect(http.find((h) => h.name === 'split')!.route).toEqual([
      { destination: { host: 'reviews', subset: 'v2' }, weight: 80 },
      { destination: { host: 'reviews', subset: 'three' }, weight: 20 },
    ]);
  });

  it('read back as a TrafficRouter, the VirtualService translates to itself (nothing dropped or changed)', async () => {
    const first = await istio({ 'r.yaml': [REVIEWS_SUBSETS, REVIEWS_ROUTER].join('---\n') });
    const vs = first.docs[0]!;
    const again = `apiVersion: traffic.opensergo.io/v1alpha1\nkind: TrafficRouter\nmetadata: { name: reviews, labels: { app: reviews } }\nspec: ${JSON.stringify(vs.spec)}\n`;
    const second = await istio({ 'r.yaml': [REVIEWS_SUBSETS, again].join('---\n') });
    expect(second.run.stderr).toBe('');
    expect(second.docs).toEqual(first.docs);
  });

  it('default subsets: a DestinationRule is generated with version: <subset> for hosts no DestinationRule covers', async () => {
    const router = DETAILS_ROUTER.replace(/, fallback: \{[^}]*\}/, '');
    const { run, docs } = await istio({ 'd.yaml': router });
    expect(run.stderr).toBe('');
    for (const doc of docs) validate(doc);
    expect(docs[1]).toEqual({
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'DestinationRule',
      metadata: { name: 'sergo-details', namespace: 'default' },
      spec: { host: 'details.default.svc.cluster.local', subsets: [{ name: 'v2', labels: { version: 'v2' } }] },
    });
  });

  it('destination.fallback is refused with its position: Istio has no form for it', async () => {
    const { run, paths } = await istio({ 'd.yaml': DETAILS_ROUTER });
    expect(run.code).toBe(2);
    const at = positionOf(DETAILS_ROUTER, 'fallback:');
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^sergo: ${paths['d.yaml']}:${at.line}:${at.col}: TrafficRouter/details: spec\\.http\\[1\\]\\.route\\[0\\]\\.destination\\.fallback: Istio cannot express a fallback .* --format istio refuses it`)),
    ]);
  });

  it('with fault-tolerance rules: the WasmPlugin, then the VirtualService', async () => {
    const files = { 'all.yaml': joinDocs(rateLimit('rl'), rule('r', 'reviews', ['/a'], ['rl']), REVIEWS_ROUTER) };
    const { run, docs } = await istio(files);
    expect(run.stderr).toBe('');
    expect(docs.map((d) => d.kind)).toEqual(['WasmPlugin', 'VirtualService', 'DestinationRule']);
  });

  it('Istio-only match fields pass to Istio; --format envoy refuses them by name', async () => {
    const router = REVIEWS_ROUTER.replace("match: [{ uri: { exact: /exact } }]", "match: [{ uri: { exact: /exact }, sourceLabels: { app: web }, port: 9080 }]");
    const { run, docs } = await istio({ 'r.yaml': [REVIEWS_SUBSETS, router].join('---\n') });
    expect(run.stderr).toBe('');
    expect((docs[0]!.spec.http as Array<{ match: unknown[] }>)[0]!.match).toEqual([{ uri: { exact: '/exact' }, sourceLabels: { app: 'web' }, port: 9080 }]);
    const paths = writeFiles({ 'r.yaml': [REVIEWS_SUBSETS, router].join('---\n'), 'e.yaml': 'reviews: []\n' });
    const envoy = await runSergo(['translate', paths['r.yaml']!, '--format', 'envoy', '--upstream', 'http://127.0.0.1:1', '--endpoints', paths['e.yaml']!]);
    expect(envoy.code).toBe(2);
    expect(lines(envoy.stderr).map((l) => l.replace(/^.*?: TrafficRouter/, 'TrafficRouter').replace(/: cannot.*/, ''))).toEqual([
      'TrafficRouter/reviews: spec.http[0].match[0].port',
      'TrafficRouter/reviews: spec.http[0].match[0].sourceLabels',
    ]);
  });
});
