// `-o FILE` is written atomically through a temporary file next to it; when that fails, the message
// names FILE, not the temporary file (issue 12), and nothing is left behind.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, runSergo } from '../support/cli.ts';
import { writeFiles } from '../support/workspace.ts';

describe('sergo translate -o', () => {
  it('a write error names the target file', async () => {
    const dir = writeFiles({}).dir;
    const out = join(dir, 'missing-dir', 'filter.json');
    const run = await runSergo(['translate', 'examples/rules.yaml', '-o', out]);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([`${out}: cannot write: ENOENT: no such file or directory, open '${out}'`]);
    expect(run.stderr).not.toContain('.tmp');
    expect(readdirSync(dir)).toEqual([]);
  });
});
