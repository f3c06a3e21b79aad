// `sergo translate --rule-id-header`: the one way to have block replies name the refusing rule
// (issue 12: by default they name only the strategy kind).
import { describe, expect, it } from 'vitest';
import { runSergo } from '../support/cli.ts';

describe('sergo translate --rule-id-header', () => {
  it('emits options.ruleIdHeader, lower-cased; none without the flag', async () => {
    const withFlag = await runSergo(['translate', 'examples/rules.yaml', '--format', 'filter', '--rule-id-header', 'X-Sergo-Rule']);
    expect(withFlag.code, withFlag.stderr).toBe(0);
    expect(JSON.parse(withFlag.stdout).options).toEqual({ ruleIdHeader: 'x-sergo-rule' });
    const without = await runSergo(['translate', 'examples/rules.yaml', '--format', 'filter']);
    expect(JSON.parse(without.stdout).options).toBeUndefined();
  });

  it('refuses a value that is no header name (exit 2)', async () => {
    const run = await runSergo(['translate', 'examples/rules.yaml', '--format', 'filter', '--rule-id-header', 'x sergo']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--rule-id-header');
  });
});
