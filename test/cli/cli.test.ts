// The real CLI (`node bin/sergo.js`, run from the repository root): output, messages, exit codes.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFilterConfig } from '../../src/emit/filter.ts';
import { translateFiles } from '../../src/translate.ts';
import { lines, runSergo } from '../support/cli.ts';
import { join as joinDocs, rateLimit, rule } from '../support/documents.ts';
import { example, exampleArg } from '../support/paths.ts';
import { schemaErrors } from '../support/schema.ts';
import { writeFiles } from '../support/workspace.ts';

const NEW_SAMPLE = 'control-plane-samples/opensergo_new_sample.yaml';
const TRAFFIC_ROUTER = 'control-plane-samples/opensergo_traffic_router_samples.yaml';
const DIAGNOSTIC_LINE = /^(sergo|[^:]+(:\d+:\d+)?): (warning: )?.+$/;

describe('sergo translate', () => {
  it('prints a valid configuration for the control-plane sample (exit 0)', async () => {
    const run = await runSergo(['translate', exampleArg(NEW_SAMPLE)]);
    expect(run.code).toBe(0);
    const config = JSON.parse(run.stdout) as unknown;
    expect(schemaErrors(config)).toEqual([]);
    const api = await translateFiles([example(NEW_SAMPLE)]);
    expect(run.stdout).toBe(renderFilterConfig(api.config!));
    for (const line of lines(run.stderr)) expect(line).toMatch(/: warning: /);
  });

  it('works as `npx sergo translate …`', async () => {
    const run = await runSergo(['translate', exampleArg(NEW_SAMPLE)], { command: ['npx', '--no-install', 'sergo'] });
    expect(run.code).toBe(0);
    expect(schemaErrors(JSON.parse(run.stdout))).toEqual([]);
    expect((JSON.parse(run.stdout) as { rules: unknown[] }).rules).toHaveLength(2);
  });

  it('translates the flagship example (limitMode Global) with --namespace prod and the --rls-… flags (exit 0)', async () => {
    const combined = exampleArg('fault-tolerance/zh-combined-rule-ratelimit-fallback.yaml');
    const run = await runSergo(['translate', combined, '--namespace', 'prod', '--rls-cluster', 'rls', '--rls-domain', 'shop', '--rls-timeout-ms', '40']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const config = JSON.parse(run.stdout) as { rateLimitService: unknown; rules: Array<{ strategy: unknown }> };
    expect(schemaErrors(config)).toEqual([]);
    expect(config.rateLimitService).toEqual({ cluster: 'rls', authority: 'rls', path: '/json', domain: 'shop', timeoutMs: 40 });
    expect(config.rules[0]!.strategy).toEqual({ kind: 'RateLimit', mode: 'Global', threshold: 10, windowMs: 1000, failOpen: false, batch: 1 });
    const defaults = await runSergo(['translate', combined, '--namespace', 'prod', '--rls-authority', 'rls.local']);
    expect(JSON.parse(defaults.stdout).rateLimitService).toEqual({ cluster: 'sergo_rls', authority: 'rls.local', path: '/json', domain: 'sergo', timeoutMs: 20 });
  });

  it('keeps the flagship example\'s namespace errors without --namespace prod (exit 2, no output)', async () => {
    const run = await runSergo(['translate', exampleArg('fault-tolerance/zh-combined-rule-ratelimit-fallback.yaml')]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr).filter((l) => !l.includes(': warning: ')).map((l) => l.replace(/^[^:]+:(\d+:\d+): ([^:]+): ([^:]+): .*$/, '$1 $2 $3'))).toEqual([
      '38:13 FaultToleranceRule/my-rule spec.strategies[0].name',
      '39:19 FaultToleranceRule/my-rule spec.fallbackAction',
    ]);
  });

  it('rejects bad --rls-… values before reading any file, and warns when no rule is Global', async () => {
    const bad = await runSergo(['translate', 'no-such-file.yaml', '--rls-timeout-ms', '0', '--rls-cluster', 'a b', '--rls-domain', '']);
    expect(bad.code).toBe(2);
    expect(lines(bad.stderr)).toEqual([
      'sergo: --rls-cluster: "a b" must be 1 to 256 printable ASCII characters without spaces',
      'sergo: --rls-domain: "" must be 1 to 256 printable ASCII characters without spaces',
      'sergo: --rls-timeout-ms: "0" is not an integer in 1..60000 (milliseconds)',
    ]);
    expect((await runSergo(['translate', 'no-such-file.yaml', '--rls-timeout-ms', '60001'])).code).toBe(2);
    const unused = await runSergo(['translate', exampleArg(NEW_SAMPLE), '--rls-cluster', 'rls']);
    expect(unused.code).toBe(0);
    expect(JSON.parse(unused.stdout)).not.toHaveProperty('rateLimitService');
    expect(lines(unused.stderr).at(-1)).toBe('sergo: warning: --rls-cluster ignored: no rule has limitMode Global');
  });

  it('reports invalid YAML where the unclosed quote opens (exit 2)', async () => {
    const run = await runSergo(['translate', exampleArg('fault-tolerance/zh-adaptive-overload-protection-strategy.yaml')]);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      `${exampleArg('fault-tolerance/zh-adaptive-overload-protection-strategy.yaml')}:8:21: AdaptiveOverloadProtectionStrategy/system-overload-foo: invalid YAML: Missing closing 'quote (the parser gave up at 9:1)`,
    ]);
  });

  it('--format filter leaves a TrafficRouter out with a warning; with --allow-empty the empty rule list (exit 0)', async () => {
    const run = await runSergo(['translate', exampleArg(TRAFFIC_ROUTER), '--allow-empty']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{\n  "version": 1,\n  "rules": []\n}\n');
    expect(lines(run.stderr)).toEqual([
      'sergo: warning: --format filter leaves out the TrafficRouters (default/service-provider): routes are not filter rules; translate them with --format envoy --endpoints FILE or --format istio',
    ]);
  });

  it('needs --app when the files hold several apps', async () => {
    const paths = writeFiles({ 'apps.yaml': joinDocs(rateLimit('rl'), rule('ra', 'app-a', ['/a'], ['rl']), rule('rb', 'app-b', ['/b'], ['rl'])) });
    const several = await runSergo(['translate', paths['apps.yaml']!]);
    expect(several.code).toBe(2);
    expect(several.stdout).toBe('');
    expect(lines(several.stderr)).toEqual(['sergo: the files hold rules for several apps (app-a, app-b); choose one with --app']);
    const chosen = await runSergo(['translate', '--app', 'app-b', paths['apps.yaml']!]);
    expect(chosen.code).toBe(0);
    expect((JSON.parse(chosen.stdout) as { rules: Array<{ id: string }> }).rules.map((r) => r.id)).toEqual(['default/app-b/rb/RateLimitStrategy/rl@/b']);
  });

  it('applies --namespace to objects without metadata.namespace', async () => {
    const paths = writeFiles({ 'ns.yaml': joinDocs(rateLimit('rl'), rule('r', 'app-a', ['/a'], ['rl'], { namespace: 'prod' })) });
    expect((await runSergo(['translate', paths['ns.yaml']!])).code).toBe(2);
    const run = await runSergo(['translate', '--namespace', 'prod', paths['ns.yaml']!]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"id": "prod/app-a/r/RateLimitStrategy/rl@/a"');
  });

  it('every line on stderr is one diagnostic', async () => {
    const paths = writeFiles({ 'bad.yaml': joinDocs(rateLimit('rl', 'metricType: X\nlimitMode: Local\nthreshold: -1\nstatDuration: 1m30s\nextra: 1\nbatch: 2'), rule('r', 'app-a', ['nope'], ['missing'])) });
    const run = await runSergo(['translate', paths['bad.yaml']!]);
    expect(run.code).toBe(2);
    const stderr = lines(run.stderr);
    expect(stderr.filter((l) => !l.includes(': warning: '))).toHaveLength(6);
    for (const line of stderr) expect(line).toMatch(DIAGNOSTIC_LINE);
  });
});

describe('sergo translate -o', () => {
  it('writes the configuration to the file and nothing to stdout', async () => {
    const { dir } = writeFiles({});
    const out = join(dir, 'config.json');
    const run = await runSergo(['translate', exampleArg(NEW_SAMPLE), '-o', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(schemaErrors(JSON.parse(readFileSync(out, 'utf8')))).toEqual([]);
    expect(readdirSync(dir)).toEqual(['config.json']); // no temporary file left behind
  });

  it('writes nothing on error: a missing file stays missing, an existing one unchanged', async () => {
    const { dir } = writeFiles({});
    const fresh = join(dir, 'fresh.json');
    const existing = join(dir, 'existing.json');
    writeFileSync(existing, 'previous\n');
    const invalid = exampleArg('fault-tolerance/zh-combined-rule-ratelimit-fallback.yaml'); // namespace errors without --namespace prod
    expect((await runSergo(['translate', invalid, '-o', fresh])).code).toBe(2);
    expect((await runSergo(['translate', invalid, '-o', existing])).code).toBe(2);
    expect(existsSync(fresh)).toBe(false);
    expect(readFileSync(existing, 'utf8')).toBe('previous\n');
    expect(readdirSync(dir)).toEqual(['existing.json']);
  });

  it('reports an unwritable output path (exit 2)', async () => {
    const { dir } = writeFiles({});
    const run = await runSergo(['translate', exampleArg(NEW_SAMPLE), '-o', join(dir, 'no-such-dir', 'config.json')]);
    expect(run.code).toBe(2);
    expect(lines(run.stderr).at(-1)).toMatch(/no-such-dir\/config\.json: cannot write: ENOENT/);
  });
});

describe('sergo validate', () => {
  it('prints a one-line summary and no configuration (exit 0)', async () => {
    const run = await runSergo(['validate', exampleArg(NEW_SAMPLE), exampleArg(TRAFFIC_ROUTER)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr).at(-1)).toBe('ok: 2 rules for app foo-app (2 files); 1 TrafficRouter');
  });

  it('accepts the flagship example (limitMode Global) with --namespace prod', async () => {
    const run = await runSergo(['validate', '--namespace', 'prod', exampleArg('fault-tolerance/zh-combined-rule-ratelimit-fallback.yaml')]);
    expect(run.code).toBe(0);
    expect(lines(run.stderr)).toEqual(['ok: 1 rule for app my-app (1 file)']);
  });

  it('accepts several apps at once', async () => {
    const paths = writeFiles({ 'apps.yaml': joinDocs(rateLimit('rl'), rule('ra', 'app-a', ['/a'], ['rl']), rule('rb', 'app-b', ['/b', '/c'], ['rl'])) });
    const run = await runSergo(['validate', paths['apps.yaml']!]);
    expect(run.code).toBe(0);
    expect(lines(run.stderr)).toEqual(['ok: 3 rules for apps app-a, app-b (1 file)']);
  });

  it('fails on invalid input with the errors and no summary (exit 2)', async () => {
    const run = await runSergo(['validate', exampleArg('fault-tolerance/zh-combined-rule-ratelimit-fallback.yaml')]);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('ok:');
    // The rule is in namespace prod, its strategy and fallback in the default one.
    expect(lines(run.stderr).filter((l) => !l.includes(': warning: '))).toHaveLength(2);
  });
});

describe('exit codes', () => {
  it('2 for an unreadable file, named in the message', async () => {
    const run = await runSergo(['validate', 'does-not-exist.yaml']);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual(["does-not-exist.yaml: cannot read: ENOENT: no such file or directory, open 'does-not-exist.yaml'"]);
  });

  it('2 for a usage error', async () => {
    expect((await runSergo(['translate'])).code).toBe(2);
    expect((await runSergo(['translate', '--bogus', 'x.yaml'])).code).toBe(2);
    expect((await runSergo(['frobnicate'])).code).toBe(2);
  });

  it('0 for --help and --version', async () => {
    const help = await runSergo(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('translate');
    const version = await runSergo(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('1 for an internal error, with the stack only under --debug', async () => {
    // The preload makes reading this file throw a plain TypeError, i.e. a bug rather than bad input.
    const nodeArgs = ['--import', './test/cli/fixtures/simulate-internal-error.mjs'];
    const plain = await runSergo(['translate', 'simulate-internal-error.yaml'], { nodeArgs });
    expect(plain.code).toBe(1);
    expect(lines(plain.stderr)).toEqual(['sergo: internal error: simulated bug (run with --debug for the stack trace)']);
    const debug = await runSergo(['translate', '--debug', 'simulate-internal-error.yaml'], { nodeArgs });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^sergo: internal error: TypeError: simulated bug\n\s+at /);
  });
});
