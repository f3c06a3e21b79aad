// block-yaml.ts reads plain block YAML into the values js-yaml gives (the path it replaces), and
// refuses everything else. Every accepted input here is compared with js-yaml under the same schema.
import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { openSergoYaml } from '../../bench/lib/rules.ts';
import { blockParse } from '../../src/spec/block-yaml.ts';
import { CORE_SCALARS } from '../../src/spec/core-scalars.ts';

const SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({
  implicit: CORE_SCALARS.map(({ name, resolve, construct }) => new jsyaml.Type(`tag:test:${name}`, { kind: 'scalar', resolve, construct })),
});

/** js-yaml's documents with content, or 'error'. */
function jsyamlDocuments(text: string): unknown {
  try {
    return jsyaml.loadAll(text, undefined, { schema: SCHEMA }).filter((v) => v !== null && v !== undefined);
  } catch {
    return 'error';
  }
}

const ACCEPTED = [
  'a: 1',
  'a: 1\n---\n',
  '---\na: 1\n---\n---\nb: x\n',
  '# c\n---\na: 1',
  '',
  'a:\n- 1\n- 2',
  'a:\n  - x\n  -  y: 1\n     z: 2\n  - w',
  'a: b # c',
  "a: 'x''y' # c",
  "a: 'x #y: z'",
  'a: "x"',
  'a: x  ',
  'a:   \nb:\n',
  'a: -1\nb: .5\nc: 1e3\nd: 0o12\ne: 012\nf: 0x1F\ng: +1\nh: .inf\ni: -.Inf\nj: .NaN\nk: 1_000',
  'a: true\nb: False\nc: TRUE\nd: tRUE\ne: null\nf: ~\ng: Null\nh: NULL\ni: nULL',
  'a: GET:/x/{id}\nb: x:y\nc: x#y\nd: /api/**\ne: a,b]',
  'metadata:\n  name: x\n  labels:\n    app: y\n# trailing\n',
  'a:\n    b:\n        c: 1\n    d: 2\ne: 3',
  'k8s.io/name: x\nx_y-z.w: 1',
  'items:\n- a: 1\n  b:\n  - c\n- d',
  openSergoYaml(3),
];

const REFUSED = [
  'a: [1, 2]',
  'a: {b: 1}',
  'a: |\n  x',
  'a: >\n  x',
  'a: "x\\ny"',
  'a: x\n  y',
  'a:\n\tb: 1',
  'a: 1\r\nb: 2',
  'a: é',
  '1: a',
  'true: a',
  "'a': b",
  'a: b: c',
  'a: b:',
  'a: 1\na: 2',
  '__proto__: 1',
  '- a',
  '  a: 1',
  'a: 1\n...\n',
  'a: 1\n--- x\n',
  'a:\n  - x\n - y',
  'a:\n  b: 1\n c: 2',
  'a: - x',
  'a: -',
  "a: 'x",
  "a: 'x' y",
  'a:\n  -\n    b: 1',
  'a:\n  - - x',
  'a:\n  x',
];

describe('blockParse', () => {
  it.each(ACCEPTED)('reads %j as js-yaml does', (text) => {
    const documents = blockParse(text);
    expect(documents, 'accepted').toBeDefined();
    expect(documents).toEqual(jsyamlDocuments(text));
  });

  it.each(REFUSED)('leaves %j to js-yaml', (text) => {
    expect(blockParse(text)).toBeUndefined();
  });

  it('agrees with js-yaml on generated documents, or refuses them', () => {
    let accepted = 0;
    const random = seeded(13);
    for (let i = 0; i < 3000; i++) {
      const text = generatedYaml(random);
      const documents = blockParse(text);
      if (documents === undefined) continue;
      accepted++;
      expect(documents, text).toEqual(jsyamlDocuments(text));
    }
    expect(accepted).toBeGreaterThan(300);
  });

  it('reads the 10,000-rule benchmark file as js-yaml does', () => {
    const text = openSergoYaml(10_000);
    expect(blockParse(text)).toEqual(jsyamlDocuments(text));
  });
});

// ---- generated documents: nested mappings and sequences of tricky keys and scalars ----------------

const KEYS = ['a', 'name', 'x.y/z', 'k-1', '1', 'true', 'null', '_', 'a b', 'a:b', '-k', 'b', 'apiVersion', '~'];
const SCALARS = [
  'x', 'hello world', "'q'", "'it''s'", '"dq"', '"a\\"b"', "''", '""', '1', '-1', '0.5', '.5', '1e3', 'true', 'False',
  'null', '~', 'GET:/a/{id}', 'a: b', 'a:', 'x # c', 'x#c', '#c', '- x', '-x', '--', '[a]', '{a: 1}', '|', '>', '@',
  "'a' # c", "'a'x", "'a: b'", 'x  ', '0o17', '012', '+1', '.inf', '.nan', 'a,b', "'a #b'", ':x', '?x',
];

function generatedYaml(random: () => number): string {
  const pick = <T,>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const block = (depth: number, indent: number, step: number): string[] => {
    if (depth > 2 || random() < 0.3) return [];
    const pad = ' '.repeat(indent);
    const lines: string[] = [];
    const sequence = random() < 0.3;
    for (let i = 0, n = 1 + Math.floor(random() * 3); i < n; i++) {
      if (random() < 0.1) lines.push(`${pad}# comment`);
      if (random() < 0.1) lines.push('');
      if (sequence && random() < 0.5) lines.push(`${pad}- ${pick(SCALARS)}`);
      else if (sequence) lines.push(`${pad}- ${pick(KEYS)}: ${pick(SCALARS)}`, ...block(depth + 1, indent + 2, step));
      else {
        const child = random() < 0.5 ? [] : block(depth + 1, indent + (random() < 0.2 ? 0 : step), step);
        lines.push(...(child.length > 0 ? [`${pad}${pick(KEYS)}:`, ...child] : [`${pad}${pick(KEYS)}: ${pick(SCALARS)}`]));
      }
    }
    return lines;
  };
  const documents = [0, 1].slice(0, 1 + Math.floor(random() * 2)).map(() => block(0, 0, 1 + Math.floor(random() * 3)).join('\n'));
  return documents.join(pick(['\n---\n', '\n--- \n', '\n...\n', '\n']));
}

/** A small deterministic generator (mulberry32): the same cases every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
