// The shape of the code, checked so that it stays:
//  * no import cycles: every module of src/ (and of assembly/) can be read, tested and replaced
//    bottom-up. Type-only imports count too: a cycle through types is still two files that cannot
//    be understood one without the other. Imports are read with TypeScript's own pre-processor
//    (static, dynamic, `export … from`, `import type`), relative ones resolved as Node and asc do;
//  * no function longer than MAX_FUNCTION_LINES in the directories listed below.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The file a relative specifier names: as written, or with `.ts` / `/index.ts` added (asc style). */
function resolveImport(from: string, spec: string, files: ReadonlySet<string>): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  return [base, `${base}.ts`, join(base, 'index.ts')].find((p) => files.has(p));
}

/** file → the files of `dir` it imports. */
export function importGraph(dir: string): Map<string, string[]> {
  const files = new Set(sourceFiles(dir));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles.map((f) => resolveImport(file, f.fileName, files)).filter((t): t is string => t !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself), Tarjan. */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const cyclesUnder = (dir: string): string[][] =>
  importCycles(importGraph(join(ROOT, dir))).map((c) => c.map((f) => relative(ROOT, f)));

const edgeCount = (dir: string): number => [...importGraph(join(ROOT, dir)).values()].reduce((n, t) => n + t.length, 0);

describe('import cycles', () => {
  it('finds a cycle where there is one (a ↔ b, c → c) and none in a chain', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sergo-cycles-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.ts';\nexport type A = B;\n");
      writeFileSync(join(dir, 'b.ts'), "export { x } from './a';\nexport type B = number;\n");
      writeFileSync(join(dir, 'c.ts'), "import './c.ts';\nimport { y } from './d.ts';\n");
      writeFileSync(join(dir, 'd.ts'), 'export const y = 1;\n');
      const cycles = importCycles(importGraph(dir)).map((c) => c.map((f) => relative(dir, f)));
      expect(cycles.sort()).toEqual([['a.ts', 'b.ts'], ['c.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('src/ has none', () => {
    expect(edgeCount('src')).toBeGreaterThan(100); // the imports were read
    expect(cyclesUnder('src')).toEqual([]);
  });

  it('assembly/ has none', () => {
    expect(edgeCount('assembly')).toBeGreaterThan(20);
    expect(cyclesUnder('assembly')).toEqual([]);
  });
});

const MAX_FUNCTION_LINES = 80;
/** Directories held to MAX_FUNCTION_LINES (add one once its long functions are split). */
const SHORT_FUNCTIONS = ['src/host', 'src/serve', 'src/cli', 'src/spec', 'src/ir', 'src/emit', 'src/xds', 'src/rls', 'src/envoy', 'src/demo', 'src/controller', 'src/opensergo', 'assembly'];

/** `file:line name (n lines)` of every function (declaration, method, arrow) longer than `max`. */
export function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const lines = sf.getLineAndCharacterOfPosition(node.getEnd()).line - first + 1;
      const name = node.name !== undefined ? node.name.getText(sf) : '(anonymous)';
      if (lines > max) found.push(`${file}:${first + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('function length', () => {
  it('finds a function one line too long, and not one at the limit', () => {
    const body = (n: number) => Array.from({ length: n - 2 }, (_, i) => `  const a${i} = ${i};`).join('\n');
    const text = `function ok() {\n${body(MAX_FUNCTION_LINES)}\n}\nconst tooLong = () => {\n${body(MAX_FUNCTION_LINES + 1)}\n};\n`;
    expect(longFunctions('x.ts', text, MAX_FUNCTION_LINES)).toEqual([`x.ts:${MAX_FUNCTION_LINES + 1} (anonymous) (${MAX_FUNCTION_LINES + 1} lines)`]);
  });

  it.each(SHORT_FUNCTIONS)(`no function in %s is over ${MAX_FUNCTION_LINES} lines`, (dir) => {
    const files = sourceFiles(join(ROOT, dir));
    expect(files.length).toBeGreaterThan(5);
    const long = files.flatMap((f) => longFunctions(relative(ROOT, f), readFileSync(f, 'utf8'), MAX_FUNCTION_LINES));
    expect(long).toEqual([]);
  });
});
