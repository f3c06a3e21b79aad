// Inputs as kubectl reads them (issue 12): `-` is standard input; a directory is its *.yaml, *.yml and
// *.json files, sorted (not recursive, hidden names skipped). An empty file or an empty stdin is an
// error (it would drop every rule), unless --allow-empty.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, runSergo } from '../support/cli.ts';
import { join as joinDocs, rateLimit, rule } from '../support/documents.ts';
import { writeFiles } from '../support/workspace.ts';

const strategyDoc = rateLimit('rl');
const ruleDoc = rule('r', 'shop', ['/a'], ['rl']);
const EMPTY = 'holds no object: an empty input drops every rule (--allow-empty if that is meant)';

describe('sergo translate / validate inputs', () => {
  it('- reads standard input: the same output as the file', async () => {
    const files = writeFiles({ 'rules.yaml': joinDocs(strategyDoc, ruleDoc) });
    const fromFile = await runSergo(['translate', files['rules.yaml']!]);
    const fromStdin = await runSergo(['translate', '-'], { input: readFileSync(files['rules.yaml']!, 'utf8') });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
    const bad = await runSergo(['validate', '-'], { input: rateLimit('rl', 'threshold: x') });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^<stdin>:\d+:\d+: RateLimitStrategy\/rl: /m);
    const twice = await runSergo(['validate', '-', '-'], { input: joinDocs(strategyDoc, ruleDoc) });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('<stdin>: - is given twice: standard input can be read once');
  });

  it('a directory means its *.yaml, *.yml and *.json files, sorted, not recursive', async () => {
    const files = writeFiles({ 'single.yaml': joinDocs(strategyDoc, ruleDoc) });
    const dir = join(files.dir, 'rules.d');
    mkdirSync(join(dir, 'nested'), { recursive: true });
    writeFileSync(join(dir, 'b-rule.yml'), ruleDoc);
    writeFileSync(join(dir, 'a-strategy.yaml'), strategyDoc);
    writeFileSync(join(dir, 'notes.txt'), 'not rules');
    writeFileSync(join(dir, '.hidden.yaml'), 'broken: [');
    writeFileSync(join(dir, 'nested', 'c.yaml'), 'broken: [');
    const fromDir = await runSergo(['translate', dir]);
    expect(fromDir.code, fromDir.stderr).toBe(0);
    expect(fromDir.stdout).toBe((await runSergo(['translate', files['single.yaml']!])).stdout);
    const validate = await runSergo(['validate', dir]);
    expect(lines(validate.stderr)).toEqual(['ok: 1 rule for app shop (2 files)']);
    // Sorted by name: of two definitions, the one in the later name is the duplicate.
    writeFileSync(join(dir, 'z-dup.yaml'), rateLimit('dup'));
    writeFileSync(join(dir, 'm-dup.yaml'), rateLimit('dup'));
    const sorted = await runSergo(['validate', dir]);
    expect(sorted.stderr).toMatch(new RegExp(`^${join(dir, 'z-dup.yaml')}:4:9: RateLimitStrategy/dup: metadata.name: duplicate RateLimitStrategy dup in namespace default: already defined at ${join(dir, 'm-dup.yaml')}:4:9$`, 'm'));
    writeFileSync(join(dir, 'c.json'), '{');
    const broken = await runSergo(['validate', dir]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`${join(dir, 'c.json')}:`);
    const emptyDir = join(files.dir, 'empty.d');
    mkdirSync(emptyDir);
    const none = await runSergo(['translate', emptyDir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`${emptyDir}: no *.yaml, *.yml or *.json file in this directory`);
  });

  it('-R: a directory includes its subdirectories, each directory\'s files before its subdirectories\'', async () => {
    const files = writeFiles({ 'single.yaml': joinDocs(strategyDoc, ruleDoc) });
    const dir = join(files.dir, 'tree');
    mkdirSync(join(dir, 'strategies', '.hidden'), { recursive: true });
    writeFileSync(join(dir, 'rule.yaml'), ruleDoc);
    writeFileSync(join(dir, 'strategies', 'rl.yaml'), strategyDoc);
    writeFileSync(join(dir, 'strategies', '.hidden', 'x.yaml'), 'broken: [');
    const flat = await runSergo(['translate', dir]);
    expect(flat.code).toBe(2);
    expect(flat.stderr).toContain('unknown strategy rl in namespace default');
    const recursive = await runSergo(['translate', '-R', dir]);
    expect(recursive.code, recursive.stderr).toBe(0);
    expect(recursive.stdout).toBe((await runSergo(['translate', files['single.yaml']!])).stdout);
    expect(lines((await runSergo(['validate', '--recursive', dir])).stderr)).toEqual(['ok: 1 rule for app shop (2 files)']);
    const empty = join(files.dir, 'nest');
    mkdirSync(join(empty, 'inner'), { recursive: true });
    writeFileSync(join(empty, 'inner', 'rules.yaml'), joinDocs(strategyDoc, ruleDoc));
    const hint = await runSergo(['validate', empty]);
    expect(hint.stderr).toContain(`${empty}: no *.yaml, *.yml or *.json file in this directory (-R to look in its subdirectories)`);
    expect((await runSergo(['validate', '-R', empty])).code).toBe(0);
  });

  it('an empty file, a file of comments and an empty stdin are errors (exit 2), warnings with --allow-empty', async () => {
    const files = writeFiles({ 'empty.yaml': '', 'comments.yaml': '# later\n---\n', 'rules.yaml': joinDocs(strategyDoc, ruleDoc) });
    for (const args of [['translate', files['empty.yaml']!], ['validate', files['comments.yaml']!], ['translate', files['rules.yaml']!, files['empty.yaml']!]]) {
      const run = await runSergo(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`: ${EMPTY}`);
    }
    const stdin = await runSergo(['translate', '-'], { input: '' });
    expect(stdin.code).toBe(2);
    expect(lines(stdin.stderr)).toEqual([`<stdin>: ${EMPTY}`]);
    const allowed = await runSergo(['translate', files['empty.yaml']!, '--allow-empty']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toEqual({ version: 1, rules: [] });
    expect(lines(allowed.stderr)).toEqual([`${files['empty.yaml']}: warning: holds no object: an empty input drops every rule`]);
  });

  it('sergo package: an empty module file is refused', async () => {
    const files = writeFiles({ 'empty.wasm': '' });
    const run = await runSergo(['package', '--module', files['empty.wasm']!, '--out', join(files.dir, 'oci')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${files['empty.wasm']}: empty file, not a WebAssembly module`);
  });
});
