// An empty configuration drops all protection (issue 12): `sergo translate` refuses to emit one
// (exit 2) unless --allow-empty says it is meant.
import { describe, expect, it } from 'vitest';
import { runSergo } from '../support/cli.ts';

describe('sergo translate: input that yields no rule', () => {
  it('--app naming an app without rules exits 2, saying so; --allow-empty emits the empty configuration', async () => {
    const nope = await runSergo(['translate', 'examples/rules.yaml', '--app', 'nope']);
    expect(nope.code).toBe(2);
    expect(nope.stdout).toBe('');
    expect(nope.stderr).toContain('sergo: the input yields no rule for app nope: nothing would be enforced (--allow-empty to emit it anyway)');
    const allowed = await runSergo(['translate', 'examples/rules.yaml', '--app', 'nope', '--allow-empty']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toEqual({ version: 1, rules: [] });
  });

  it('an app with rules is not affected', async () => {
    const run = await runSergo(['translate', 'examples/rules.yaml', '--app', 'demo-app']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).rules.length).toBeGreaterThan(0);
  });
});
