// Binding and references (DESIGN §3): resolution by name in the rule's namespace, kind optional,
// ambiguity and app mismatch are errors, and a failed lookup says where the name was found instead.
import { describe, expect, it } from 'vitest';
import { fallbackAction, join, objectDoc, rateLimit, rule, throttling } from '../support/documents.ts';
import { translateInline } from '../support/translate.ts';
import { positionOf } from '../support/workspace.ts';

/** The single error of `result`, checked to point at `marker` in the rule, as `Kind/name: field: message`. */
function onlyError(result: Awaited<ReturnType<typeof translateInline>>, yaml: string, marker: string, occurrence = 1, offset = 0): string {
  expect(result.errorLines, result.errorLines.join('\n')).toHaveLength(1);
  const { line, col } = positionOf(yaml, marker, occurrence);
  const prefix = `${result.paths['rules.yaml']}:${line}:${col + offset}: `;
  expect(result.errorLines[0]!.startsWith(prefix), `${result.errorLines[0]} should start with ${prefix}`).toBe(true);
  return result.errorLines[0]!.slice(prefix.length);
}

describe('reference resolution', () => {
  it('resolves a kind-less reference across strategy kinds', async () => {
    const yaml = join(throttling('slow-down'), rule('r', 'app-a', ['/a'], ['slow-down']));
    const result = await translateInline(yaml);
    expect(result.errors).toEqual([]);
    expect(result.config?.rules.map((r) => r.strategy.kind)).toEqual(['Throttling']);
  });

  it('names the other namespace where a same-named object was found', async () => {
    const yaml = join(rateLimit('rl', undefined, { namespace: 'staging' }), rule('r', 'app-a', ['/a'], ['rl'], { namespace: 'prod' }));
    const result = await translateInline(yaml);
    const message = onlyError(result, yaml, 'rl', 2);
    expect(message).toBe(
      `FaultToleranceRule/r: spec.strategies[0].name: unknown strategy rl in namespace prod; found RateLimitStrategy rl in namespace staging (${result.paths['rules.yaml']}:4:9)`,
    );
  });

  it('explains the --namespace default when the object has no namespace', async () => {
    const yaml = join(rateLimit('rl'), rule('r', 'app-a', ['/a'], ['rl'], { namespace: 'prod' }));
    const result = await translateInline(yaml);
    expect(onlyError(result, yaml, 'rl', 2)).toContain(
      'found RateLimitStrategy rl in namespace default (' + `${result.paths['rules.yaml']}:4:9); objects without metadata.namespace are in namespace default (see --namespace)`,
    );
    const withNamespace = await translateInline(yaml, { namespace: 'prod' });
    expect(withNamespace.errors).toEqual([]);
    expect(withNamespace.config?.rules[0]?.id).toBe('prod/app-a/r/RateLimitStrategy/rl@/a');
  });

  it('rejects an ambiguous kind-less reference and accepts it with kind', async () => {
    const docs = [rateLimit('limit'), throttling('limit')];
    const ambiguous = join(...docs, rule('r', 'app-a', ['/a'], ['limit']));
    const result = await translateInline(ambiguous);
    expect(onlyError(result, ambiguous, '- name: limit', 1, 8)).toMatch(
      /^FaultToleranceRule\/r: spec\.strategies\[0\]\.name: strategy limit is ambiguous in namespace default: RateLimitStrategy \(.*rules\.yaml:4:9\), ThrottlingStrategy \(.*rules\.yaml:\d+:9\); add kind to choose one$/,
    );
    const explicit = await translateInline(join(...docs, rule('r', 'app-a', ['/a'], ['ThrottlingStrategy/limit'])));
    expect(explicit.errors).toEqual([]);
    expect(explicit.config?.rules.map((r) => r.id)).toEqual(['default/app-a/r/ThrottlingStrategy/limit@/a']);
  });

  it('rejects a strategy that carries another app', async () => {
    const yaml = join(rateLimit('rl', undefined, { app: 'app-b' }), rule('r', 'app-a', ['/a'], ['rl']));
    const result = await translateInline(yaml);
    expect(onlyError(result, yaml, '- name: rl', 1, 8)).toContain(
      "unknown strategy rl in namespace default; found RateLimitStrategy rl of app app-b (",
    );
    expect(result.errorLines[0]).toContain("but a referenced object that carries an app must carry the rule's app app-a");
  });

  it('accepts a strategy that carries the same app or none', async () => {
    const yaml = join(rateLimit('rl', undefined, { app: 'app-a' }), throttling('th'), rule('r', 'app-a', ['/a'], ['rl', 'th']));
    const result = await translateInline(yaml);
    expect(result.errors).toEqual([]);
    expect(result.config?.rules).toHaveLength(2);
  });

  it('says when the name belongs to another kind than the one asked for', async () => {
    const yaml = join(rateLimit('rl'), rule('r', 'app-a', ['/a'], ['ThrottlingStrategy/rl']));
    const result = await translateInline(yaml);
    expect(onlyError(result, yaml, '- name: rl', 1, 8)).toContain(
      'unknown ThrottlingStrategy rl in namespace default; found RateLimitStrategy rl (',
    );
    expect(result.errorLines[0]).toContain('but the reference asks for kind ThrottlingStrategy');
  });

  it('says when a strategy reference names a fallback action', async () => {
    const yaml = join(fallbackAction('fb'), rule('r', 'app-a', ['/a'], ['fb']));
    const result = await translateInline(yaml);
    expect(onlyError(result, yaml, '- name: fb', 1, 8)).toMatch(/unknown strategy fb in namespace default; found HttpRequestFallbackAction fb \(.*\), which is not a strategy$/);
  });

  it('says when a reference names a kind sergo-wasm does not support', async () => {
    const yaml = join(objectDoc('AdaptiveOverloadProtectionStrategy', 'ao', "metricType: 'CpuPercentage'"), rule('r', 'app-a', ['/a'], ['ao']));
    const result = await translateInline(yaml);
    expect(onlyError(result, yaml, '- name: ao', 1, 8)).toMatch(/found AdaptiveOverloadProtectionStrategy ao \(.*\), which sergo-wasm does not support$/);
  });

  it('says when the fallback action names a strategy', async () => {
    const yaml = join(rateLimit('rl'), rule('r', 'app-a', ['/a'], ['rl'], { fallback: 'rl' }));
    const result = await translateInline(yaml);
    expect(onlyError(result, yaml, 'fallbackAction: rl', 1, 16)).toMatch(
      /^FaultToleranceRule\/r: spec\.fallbackAction: unknown fallback action rl in namespace default; found RateLimitStrategy rl \(.*\), which is not an HttpRequestFallbackAction$/,
    );
  });

  it('reports an unknown name without hints when nothing matches', async () => {
    const yaml = join(rateLimit('rl'), rule('r', 'app-a', ['/a'], ['rl', 'missing']));
    const result = await translateInline(yaml);
    expect(onlyError(result, yaml, 'missing')).toBe('FaultToleranceRule/r: spec.strategies[1].name: unknown strategy missing in namespace default');
    expect(result.config).toBeUndefined();
  });

  it('rejects the same strategy listed twice in one rule', async () => {
    const yaml = join(rateLimit('rl'), rule('r', 'app-a', ['/a'], ['rl', 'RateLimitStrategy/rl']));
    const result = await translateInline(yaml);
    expect(onlyError(result, yaml, 'rl', 3)).toBe(
      'FaultToleranceRule/r: spec.strategies[1].name: RateLimitStrategy rl is already listed in this rule',
    );
  });

  it('resolves a fallback action given as a {name, kind} object', async () => {
    const ruleDoc = objectDoc(
      'FaultToleranceRule',
      'r',
      "selector:\n  app: app-a\ntargets:\n  - targetResourceName: '/a'\nstrategies:\n  - name: rl\nfallbackAction:\n  name: fb\n  kind: HttpRequestFallbackAction",
    );
    const result = await translateInline(join(rateLimit('rl'), fallbackAction('fb'), ruleDoc));
    expect(result.errors).toEqual([]);
    expect(result.config?.rules[0]?.fallback).toEqual({ status: 429, body: 'Blocked', headers: [['x-limit', 'foo']] });
  });

  it('emits nothing when a referenced strategy is invalid, without a second error', async () => {
    const bad = rateLimit('rl', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 1\nfailOpen: true');
    const result = await translateInline(join(bad, rule('r', 'app-a', ['/a'], ['rl'])));
    expect(result.errors.map((d) => d.field)).toEqual(['spec.failOpen']);
    expect(result.config).toBeUndefined();
  });
});
