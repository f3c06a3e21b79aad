// CLI conventions of kubectl/istioctl (issue 12): bare `sergo` prints help and exits 0; `sergo version`.
import { describe, expect, it } from 'vitest';
import { runSergo } from '../support/cli.ts';
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
});
