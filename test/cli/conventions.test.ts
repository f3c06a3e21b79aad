// CLI conventions of kubectl/istioctl (issue 12): bare `sergo` prints help and exits 0; `sergo version`.
import { describe, expect, it } from 'vitest';
import { runSergo } from '../support/cli.ts';
import { EXAMPLE_COMMANDS } from '../../src/cli/help.ts';
import { packageVersion } from '../../src/version.ts';

describe('sergo CLI conventions', () => {
  it('bare sergo prints the help to stdout and exits 0', async () => {
    const run = await runSergo([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: sergo');
    for (const command of ['translate', 'serve', 'package', 'version']) expect(run.stdout).toContain(command);
  });

  it('sergo version prints the package version', async () => {
    const run = await runSergo(['version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${packageVersion()}\n`);
  });

  it.each(EXAMPLE_COMMANDS)('sergo %s --help shows examples and marks required options', async (command) => {
    const run = await runSergo([command, '--help']);
    expect(run.code).toBe(0);
    const help = run.stdout;
    expect(help).toMatch(new RegExp(`\nExamples:\n  sergo ${command}( |\n)`));
    const required = { serve: '--upstream <url>', rls: '--redis <url>', package: '--out <path>' }[command as string];
    if (required !== undefined) expect(help.slice(help.indexOf(required)).split(/\n  -/)[0]).toContain('(required)');
  });

  it('every command has examples', async () => {
    const run = await runSergo(['--help']);
    const commands = [...run.stdout.matchAll(/^  (\w+) /gm)].map((m) => m[1]).filter((c) => c !== 'help' && c !== 'version');
    expect(commands.sort()).toEqual([...EXAMPLE_COMMANDS].sort());
  });
});
