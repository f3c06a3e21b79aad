// No silent empty configuration (issue 12): truncating the watched file (`: > rules.yaml`), or an edit
// that leaves no rule, keeps the previous rules (logged once, however many writes the editor makes);
// --allow-empty lets it through. sergo serve does not start on rules that yield none. A reload that
// finds the rules unchanged says so; the log never doubles its prefix.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServeError } from '../../src/serve/index.ts';
import { runSergo } from '../support/cli.ts';
import {
  closeAfterEach, docs, request, rule, serveFor, sleep, startUpstream, strategy, waitFor, workspace,
  type Served, type TestUpstream, type Workspace,
} from './helpers.ts';

let ws: Workspace | undefined;
let up: TestUpstream | undefined;
let served: Served | undefined;
closeAfterEach();

const limitOn = (target: string, threshold: number, name = 'r') =>
  docs(strategy('RateLimitStrategy', `${name}-rl`, `metricType: RequestAmount\nlimitMode: Local\nthreshold: ${threshold}\nstatDurationSeconds: 60`), rule(name, target, [`${name}-rl`]));
const CONFIG_MAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata: {}\n';

const statuses = async (base: string, path: string, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await request(base, path)).status);
  return out;
};

describe('sergo serve: a reload to no rule', () => {
  it('truncating the watched file keeps the previous rules, logged once for repeated writes', async () => {
    ws = workspace();
    up = await startUpstream();
    const file = ws.file('rules.yaml', limitOn('/a', 1));
    served = await serveFor({ rules: [file], upstream: up.url });
    const { base, logs } = served;
    expect(await statuses(base, '/a', 2)).toEqual([200, 429]);

    writeFileSync(file, '');
    await waitFor('the truncation to be refused', () => logs.some((l) => l.includes('reload failed')), 10_000);
    expect(await served.serve.reload()).toBe('invalid'); // a second look at the same empty file
    writeFileSync(file, '');
    await sleep(400);
    expect(await served.serve.reload()).toBe('invalid');
    const failures = logs.filter((l) => l.includes('reload failed'));
    expect(failures).toEqual(['sergo serve: error: reload failed (1 error): still serving the previous rules (generation 1)\n']);
    expect(logs.filter((l) => l.includes('holds no object'))).toEqual([
      `sergo serve: error: ${file}: holds no object: an empty input drops every rule (--allow-empty if that is meant)\n`,
    ]);
    expect(await statuses(base, '/a', 1)).toEqual([429]); // the old rule, and its count, still there
    expect(served.serve.config().rules).toHaveLength(1);

    // An edit that leaves objects but no rule is refused the same way.
    writeFileSync(file, CONFIG_MAP);
    expect(await served.serve.reload()).toBe('invalid');
    expect(logs.some((l) => l.includes(`the rules (${file}) hold no rule: nothing would be enforced (--allow-empty to serve without rules)`))).toBe(true);
    expect(served.serve.config().rules).toHaveLength(1);

    // The file watcher may apply the edit before this reload looks (then it finds it unchanged).
    writeFileSync(file, limitOn('/b', 1));
    expect(['applied', 'unchanged']).toContain(await served.serve.reload());
    expect(await statuses(base, '/b', 2)).toEqual([200, 429]);
  });

  it('--allow-empty: the truncation is applied (a warning), and serve starts without rules', async () => {
    ws = workspace();
    up = await startUpstream();
    const file = ws.file('rules.yaml', limitOn('/a', 1));
    served = await serveFor({ rules: [file], upstream: up.url, allowEmpty: true });
    expect(await statuses(served.base, '/a', 2)).toEqual([200, 429]);
    writeFileSync(file, '');
    await waitFor('the empty configuration', () => served!.serve.config().rules.length === 0, 10_000);
    expect(served.logs.some((l) => l === `sergo serve: warn: ${file}: warning: holds no object: an empty input drops every rule\n`)).toBe(true);
    expect(await statuses(served.base, '/a', 3)).toEqual([200, 200, 200]);
  });

  it('does not start on rules that yield none (an empty file, --app without rules), unless --allow-empty', async () => {
    ws = workspace();
    up = await startUpstream();
    const empty = ws.file('empty.yaml', '# nothing yet\n');
    await expect(serveFor({ rules: [empty], upstream: up.url })).rejects.toThrow(ServeError);
    await expect(serveFor({ rules: [empty], upstream: up.url })).rejects.toThrow(/holds no object/);
    const rules = ws.file('rules.yaml', limitOn('/a', 1));
    await expect(serveFor({ rules: [rules], upstream: up.url, app: 'nope' })).rejects.toThrow(/hold no rule for app nope: nothing would be enforced/);
    served = await serveFor({ rules: [empty], upstream: up.url, allowEmpty: true });
    expect(served.serve.config().rules).toEqual([]);
    const cli = await runSergo(['serve', '--rules', empty, '--upstream', up.url, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(`${empty}: holds no object`);
    expect(cli.stderr).toContain('sergo serve: not started');
  });

  it('--config: an empty filter configuration file is an error', async () => {
    ws = workspace();
    up = await startUpstream();
    const config = ws.file('filter.json', '');
    await expect(serveFor({ config, upstream: up.url })).rejects.toThrow(`${config}: empty: expected a filter configuration`);
  });
});

describe('sergo serve: reload messages', () => {
  it('a reload of unchanged rules says so (as SIGHUP does); a warning is not prefixed twice', async () => {
    ws = workspace();
    up = await startUpstream();
    const file = ws.file('rules.yaml', `${limitOn('/a', 1)}---\n${CONFIG_MAP}`);
    served = await serveFor({ rules: [file], upstream: up.url, watch: false });
    expect(await served.serve.reload()).toBe('unchanged');
    expect(served.logs).toContain('sergo serve: info: rules read again: configuration unchanged (generation 1)\n');
    const other = await serveFor({ rules: [file], upstream: up.url, watch: false, app: 'nope', allowEmpty: true });
    expect(other.logs.filter((l) => l.includes('no FaultToleranceRule for app nope'))).toEqual([
      'sergo serve: warn: no FaultToleranceRule for app nope (apps found: app); the configuration has no rules\n',
    ]);
    for (const line of [...served.logs, ...other.logs]) expect(line).not.toMatch(/sergo serve: \w+: sergo: /);
  });

  it('--rules DIR watches the directory: a new file in it is loaded', async () => {
    ws = workspace();
    up = await startUpstream();
    const dir = join(ws.dir, 'rules.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), limitOn('/a', 1));
    served = await serveFor({ rules: [dir], upstream: up.url });
    expect(served.serve.config().rules.map((r) => r.resource)).toEqual(['/a']);
    writeFileSync(join(dir, 'b.yml'), limitOn('/b', 1, 'b'));
    await waitFor('the new file', () => served!.serve.config().rules.length === 2, 10_000);
    expect(served.serve.config().rules.map((r) => r.resource).sort()).toEqual(['/a', '/b']);
  });
});
