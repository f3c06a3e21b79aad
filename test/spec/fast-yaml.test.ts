// The fast YAML path (src/spec/fast-yaml.ts) must read exactly what the `yaml` library reads: the same
// values for every file it takes, and the `yaml` library for every file it leaves alone. Positions,
// found on demand from the `yaml` library's view, stay exact.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Diagnostics, formatDiagnostic } from '../../src/diagnostics.ts';
import { fastParse } from '../../src/spec/fast-yaml.ts';
import { parseSource } from '../../src/spec/source.ts';
import { translateSources } from '../../src/translate.ts';
import { repoRoot } from '../support/paths.ts';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.(ya?ml|json)$/.test(name) ? [path] : [];
  });
}

/** What the `yaml` library reads: the values of the documents with content. */
function reference(text: string): unknown[] {
  return parseAllDocuments(text).map((d) => d.toJS()).filter((v) => v !== null && v !== undefined);
}

const fast = (text: string) => fastParse(text)?.filter((v) => v !== null && v !== undefined);

describe('fast YAML path', () => {
  const files = [...yamlFiles(join(repoRoot, 'examples')), ...yamlFiles(join(repoRoot, 'test/fixtures'))];

  it('reads every example and fixture as the yaml library does', () => {
    expect(files.length).toBeGreaterThan(20);
    let taken = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      if (parseAllDocuments(text).some((d) => d.errors.length > 0)) continue;
      const values = fast(text);
      if (values === undefined) continue;
      taken++;
      expect(values, file).toEqual(reference(text));
    }
    expect(taken).toBeGreaterThan(20);
  });

  it('types plain scalars with the core schema; quoted ones stay strings', () => {
    const text = [
      'a: 012', 'b: 0o17', 'c: 0x1F', 'd: -3', 'e: 1.50', 'f: 1e3', 'g: .inf', 'h: -.Inf', 'i: .NaN', 'j: ~', 'k:', 'l: Null',
      'm: True', 'n: FALSE', 'o: yes', 'p: off', 'q: 1_000', 'r: "12"', "s: '~'", 't: 2026-01-01', 'u: 0b101', 'v: +12', 'w: 1.',
      'x: |\n  12\n', 'y: [1, "2", three]', 'z: { k: 1 }',
    ].join('\n');
    expect(fast(text)).toEqual(reference(text));
  });

  it('leaves tags, anchors, aliases, directives, explicit keys and invalid YAML to the yaml library', () => {
    for (const text of ['a: !!int "3"', 'a: &x 1\nb: *x', '%YAML 1.1\n---\na: yes', '? a\n: b', 'a: [1\n', 'a: 1\na: 2', 'a: !custom 1']) {
      expect(fastParse(text), text).toBeUndefined();
    }
    expect(fastParse("a: '/api/**'\nb: GET:/x/**\nc: 'hello & goodbye!'")).toEqual([{ a: '/api/**', b: 'GET:/x/**', c: 'hello & goodbye!' }]);
  });

  it('documents with content are the same in both parsers (empty ones, comments, a lone ~)', () => {
    const text = '# only a comment\n---\n---\na: 1\n---\n~\n---\nb: 2\n...\n---\n# end\n';
    const diagnostics = new Diagnostics();
    const documents = parseSource('x.yaml', text, diagnostics);
    expect(documents.map((d) => d.value)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(documents.map((d) => d.yaml().doc.toJS())).toEqual([{ a: 1 }, { b: 2 }]);
    expect(diagnostics.items).toEqual([]);
  });

  it('a problem in a file read by the fast path is reported at its exact position', () => {
    const filler = Array.from({ length: 50 }, (_, i) =>
      `apiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: RateLimitStrategy\nmetadata:\n  name: rl-${i}\n  labels: { app: a }\n` +
      `spec:\n  metricType: RequestAmount\n  limitMode: Local\n  threshold: ${i === 37 ? "'lots'" : 10}\n  statDurationSeconds: 1\n`).join('---\n');
    expect(fastParse(filler)).toBeDefined();
    const result = translateSources([{ path: 'big.yaml', text: filler }], { app: 'a' });
    const line = filler.split('\n').findIndex((l) => l.includes("'lots'")) + 1;
    expect(result.errors.map(formatDiagnostic)).toEqual([
      `big.yaml:${line}:14: RateLimitStrategy/rl-37: spec.threshold: must be an integer, not a string ('lots')`,
    ]);
  });

  it('positions in the IR are plain data: they clone and serialize as { file, line, col }', () => {
    const text = 'apiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: RateLimitStrategy\nmetadata:\n  name: rl\n  labels: { app: a }\n' +
      'spec: { metricType: RequestAmount, limitMode: Local, threshold: 1, statDurationSeconds: 1 }\n---\n' +
      'apiVersion: fault-tolerance.opensergo.io/v1alpha1\nkind: FaultToleranceRule\nmetadata:\n  name: r\n  labels: { app: a }\n' +
      "spec:\n  targets: [{ targetResourceName: '/a' }]\n  strategies: [{ name: rl }]\n";
    const rule = translateSources([{ path: 'r.yaml', text }]).deployment!.rules[0]!;
    expect(structuredClone(rule.resourcePos)).toEqual({ file: 'r.yaml', line: 14, col: 35 });
    expect(JSON.parse(JSON.stringify(rule.strategy.origin.pos))).toEqual({ file: 'r.yaml', line: 4, col: 9 });
    expect(structuredClone(rule).resourcePos).toEqual({ file: 'r.yaml', line: 14, col: 35 });
  });
});
