// bin/sergo.js runs the bundle (build/cli/, scripts/build-cli.js) when it is at least as new as every
// file under src/, else the sources through tsx (SERGO_CLI_SOURCES=1 forces them): both print the
// same, and no module of the bundle finds a file relative to its own URL (the package root instead).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSergo } from '../support/cli.ts';
import { repoRoot } from '../support/paths.ts';

const SOURCES = { SERGO_CLI_SOURCES: '1' };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-cli.js', '--if-needed'], { cwd: repoRoot, stdio: 'ignore' });
}, 60_000);

describe('the CLI bundle', () => {
  it('is what bin/sergo.js runs while it is current; the sources otherwise', async () => {
    // A bug's stack trace shows which ran.
    const nodeArgs = ['--import', './test/cli/fixtures/simulate-internal-error.mjs'];
    const bundled = await runSergo(['translate', '--debug', 'simulate-internal-error.yaml'], { nodeArgs });
    expect(bundled.stderr).toContain(join('build', 'cli'));
    const sources = await runSergo(['translate', '--debug', 'simulate-internal-error.yaml'], { nodeArgs, env: SOURCES });
    expect(sources.stderr).not.toContain(join('build', 'cli'));
    expect(sources.stderr).toContain(join('src', 'translate.ts'));
  });

  it.each([
    ['translate', 'examples/rules.yaml'],
    ['translate', 'examples/rules.yaml', '--format', 'envoy', '--upstream', 'http://127.0.0.1:8080'],
    ['validate', 'examples/rules.yaml'],
    ['--help'],
    ['serve', '--help'],
    ['version'],
  ])('prints what the sources print: sergo %s', async (...args) => {
    const [bundled, sources] = await Promise.all([runSergo(args), runSergo(args, { env: SOURCES })]);
    expect(bundled).toEqual(sources);
  });

  it('finds the package\'s files from the package root, not from a module\'s URL', () => {
    const relative = files(join(repoRoot, 'src'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('package-root.ts'))
      .filter((f) => /new URL\([^)]*import\.meta\.url|dirname\(fileURLToPath\(import\.meta\.url/.test(readFileSync(f, 'utf8')));
    expect(relative).toEqual([]);
  });
});
