// Errors that lead to the fix (issue 12): a near miss names the known field or kind; a YAML syntax
// error is reported where the broken quote or bracket opens, and does not cascade into errors about
// the references it broke; an unresolved reference does not also call its objects unreferenced; a
// fault-tolerance object of another version is an error, not a skip.
import { describe, expect, it } from 'vitest';
import { didYouMean } from '../../src/spec/closest.ts';
import { join, objectDoc, rateLimit, rule } from '../support/documents.ts';
import { translateInline } from '../support/translate.ts';
import { positionOf } from '../support/workspace.ts';

const at = (file: string, text: string, marker: string) => {
  const { line, col } = positionOf(text, marker);
  return `${file}:${line}:${col}`;
};

describe('did you mean', () => {
  it('names the one known word a typo or two away, in any case; nothing when none or several are close', () => {
    const known = ['metricType', 'limitMode', 'threshold', 'statDurationSeconds', 'statDuration'];
    expect(didYouMean('treshold', known)).toBe('; did you mean "threshold"?');
    expect(didYouMean('threshhold', known)).toBe('; did you mean "threshold"?');
    expect(didYouMean('Threshold', known)).toBe('; did you mean "threshold"?');
    expect(didYouMean('limitmode', known)).toBe('; did you mean "limitMode"?');
    expect(didYouMean('thershold', known)).toBe('; did you mean "threshold"?');
    expect(didYouMean('burst', known)).toBe('');
    expect(didYouMean('threshold', known)).toBe('');
    expect(didYouMean('ab', ['ac', 'ad'])).toBe('');
  });

  it('an unknown field close to a known one says which', async () => {
    const yaml = rateLimit('rl', 'metricType: RequestAmount\nlimitMode: Local\ntreshold: 10\nthreshold: 10\nstatDurationSeconds: 1');
    const result = await translateInline(join(yaml, rule('r', 'a', ['/a'], ['rl'])));
    const file = result.paths['rules.yaml']!;
    expect(result.warningLines).toEqual([
      `${at(file, yaml, 'treshold')}: warning: RateLimitStrategy/rl: spec.treshold: unknown field, ignored; did you mean "threshold"? ` +
        '(known: metricType, limitMode, threshold, statDurationSeconds, statDuration, failOpen, batch)',
    ]);
  });

  it('a required field written with a typo says so in the error as well', async () => {
    const yaml = rateLimit('rl', 'metricType: RequestAmount\nlimitMode: Local\ntreshold: 10\nstatDurationSeconds: 1');
    const result = await translateInline(join(yaml, rule('r', 'a', ['/a'], ['rl'])));
    expect(result.errors.map((d) => `${d.field}: ${d.message}`)).toEqual(['spec.threshold: is required (treshold is written: a typo?)']);
    const missing = await translateInline(rateLimit('rl', 'metricType: RequestAmount\nlimitMode: Local\nstatDurationSeconds: 1'));
    expect(missing.errors.map((d) => d.message)).toEqual(['is required']);
  });

  it('an unsupported fault-tolerance kind close to a known one says which', async () => {
    const yaml = objectDoc('RateLimitStrateg', 'rl', 'threshold: 1');
    const result = await translateInline(yaml);
    expect(result.warningLines[0]).toContain('RateLimitStrateg is not supported by sergo-wasm; did you mean "RateLimitStrategy"?; skipped');
  });
});

describe('YAML syntax errors', () => {
  const strategy = (threshold: string) => rateLimit('rl', `metricType: RequestAmount\nlimitMode: Local\nthreshold: ${threshold}\nstatDurationSeconds: 1`, { app: 'a' });

  it.each([
    ['an unclosed flow sequence', '[10', 'Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['an unclosed double quote', '"10', 'Missing closing "quote'],
    ["an unclosed single quote", "'10", "Missing closing 'quote"],
  ])('%s is reported where it opens, with where the parser gave up', async (_title, threshold, message) => {
    const yaml = strategy(threshold);
    const result = await translateInline(yaml);
    const file = result.paths['rules.yaml']!;
    expect(result.errorLines).toHaveLength(1);
    expect(result.errorLines[0]).toMatch(new RegExp(`^${escape(at(file, yaml, threshold))}: RateLimitStrategy/rl: invalid YAML: ${escape(message)} \\(the parser gave up at \\d+:\\d+\\)$`));
  });

  it('does not cascade into errors about the references it broke', async () => {
    const broken = strategy('[10');
    const result = await translateInline({ 'strategy.yaml': broken, 'rule.yaml': rule('r', 'a', ['/a'], ['rl']) });
    expect(result.errorLines).toHaveLength(1);
    expect(result.errorLines[0]).toContain('RateLimitStrategy/rl: invalid YAML');
    expect(result.config).toBeUndefined();
  });

  it('a reference to a missing object is still an error next to a broken one', async () => {
    const result = await translateInline({ 'strategy.yaml': strategy('[10'), 'rule.yaml': rule('r', 'a', ['/a'], ['rl', 'other']) });
    expect(result.errorLines).toHaveLength(2);
    expect(result.errorLines[1]).toContain('spec.strategies[1].name: unknown strategy other in namespace default');
  });
});

describe('references', () => {
  it('after an unresolved reference, the objects its message names are not also "not referenced"', async () => {
    const result = await translateInline(join(rateLimit('rl', undefined, { app: 'other' }), rule('r', 'a', ['/a'], ['rl'])));
    expect(result.errorLines).toHaveLength(1);
    expect(result.errorLines[0]).toContain("found RateLimitStrategy rl of app other");
    expect(result.warningLines).toEqual([]);
  });

  it('an object nothing names is still reported as not referenced', async () => {
    const result = await translateInline(join(rateLimit('rl'), rateLimit('unused'), rule('r', 'a', ['/a'], ['rl'])));
    expect(result.warningLines).toHaveLength(1);
    expect(result.warningLines[0]).toContain('RateLimitStrategy/unused: metadata.name: not referenced by any FaultToleranceRule');
  });
});

describe('API versions', () => {
  it('a fault-tolerance object of another version is an error (its rules would not be enforced), and its references add none', async () => {
    const v2 = rateLimit('rl').replace('fault-tolerance.opensergo.io/v1alpha1', 'fault-tolerance.opensergo.io/v1alpha2');
    const result = await translateInline({ 'strategy.yaml': v2, 'rule.yaml': rule('r', 'a', ['/a'], ['rl']) });
    const file = result.paths['strategy.yaml']!;
    expect(result.errorLines).toEqual([
      `${at(file, v2, 'fault-tolerance')}: RateLimitStrategy/rl: apiVersion: fault-tolerance.opensergo.io/v1alpha2 is not supported (only fault-tolerance.opensergo.io/v1alpha1): its rules would not be enforced`,
    ]);
    expect(result.config).toBeUndefined();
  });

  it('other OpenSergo groups stay warnings', async () => {
    const database = 'apiVersion: database.opensergo.io/v1alpha1\nkind: VirtualDatabase\nmetadata:\n  name: db\nspec: {}\n';
    const result = await translateInline(join(database, rateLimit('rl'), rule('r', 'a', ['/a'], ['rl'])));
    expect(result.errorLines).toEqual([]);
    expect(result.warningLines).toHaveLength(1);
    expect(result.warningLines[0]).toContain('is not a fault-tolerance object; sergo-wasm does not handle it; skipped');
    expect(result.config?.rules).toHaveLength(1);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
