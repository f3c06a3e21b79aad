// `npm pack` yields a package that works installed anywhere (issue 12): the tarball, installed with
// `npm install -g --prefix TMP` (dependencies from the npm cache, else the registry), runs `sergo
// translate`, `sergo package` (its own build/sergo.wasm, not one under the current directory) and
// `sergo serve` from a directory that holds nothing of the clone.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startUpstream, waitFor, type TestUpstream } from '../serve/helpers.ts';
import { runSergo } from '../support/cli.ts';
import { join as joinDocs, rateLimit, rule } from '../support/documents.ts';
import { repoRoot } from '../support/paths.ts';

const RULES = joinDocs(rateLimit('rl', 'metricType: RequestAmount\nlimitMode: Local\nthreshold: 1\nstatDurationSeconds: 60', { app: 'shop' }), rule('r', 'shop', ['/limited'], ['rl']));

let root: string;
let sergo: string;
let elsewhere: string;
let upstream: TestUpstream | undefined;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sergo-install-'));
  const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const packed = npm(['pack', '--pack-destination', root], repoRoot).trim().split('\n').at(-1)!;
  npm(['install', '-g', '--prefix', join(root, 'prefix'), '--prefer-offline', join(root, packed)], root);
  sergo = join(root, 'prefix', 'bin', 'sergo');
  elsewhere = join(root, 'elsewhere');
  mkdirSync(elsewhere);
  writeFileSync(join(elsewhere, 'rules.yaml'), RULES);
}, 300_000);

afterAll(() => {
  upstream?.close();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

const installed = (args: string[]) => runSergo(args, { command: [sergo], cwd: elsewhere });

describe('the npm package, installed', () => {
  it('ships the CLI and the release module, not the tests or the AssemblyScript sources', () => {
    const pkg = join(root, 'prefix', 'lib', 'node_modules', 'sergo-wasm');
    expect(readFileSync(join(pkg, 'build', 'sergo.wasm'))).toEqual(readFileSync(join(repoRoot, 'build', 'sergo.wasm')));
    expect(readdirSync(join(pkg, 'build')).sort()).toEqual(['cli', 'sergo.wasm']); // the CLI bundled: no TypeScript compiled at start-up
    expect(readdirSync(pkg).sort()).toEqual(['README.md', 'bin', 'build', 'deploy', 'docs', 'examples', 'node_modules', 'package.json', 'schema', 'src']);
  });

  it('sergo translate from another directory prints what the clone prints', async () => {
    const run = await installed(['translate', 'rules.yaml']);
    expect(run.code, run.stderr).toBe(0);
    const clone = await runSergo(['translate', '-'], { input: RULES });
    expect(run.stdout).toBe(clone.stdout);
  });

  it('sergo package packages the installed build/sergo.wasm', async () => {
    const run = await installed(['package', '--out', 'oci']);
    expect(run.code, run.stderr).toBe(0);
    const wasm = readFileSync(join(repoRoot, 'build', 'sergo.wasm'));
    expect(run.stdout).toContain(`module   sha256:${createHash('sha256').update(wasm).digest('hex')}`);
  });

  it('sergo serve enforces the rules with the installed module', async () => {
    upstream = await startUpstream();
    const child = spawn(sergo, ['serve', '--rules', 'rules.yaml', '--upstream', upstream.url, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { cwd: elsewhere, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waitFor('serve to listen', () => /listening on 127\.0\.0\.1:\d+/.test(stderr) || child.exitCode !== null, 45_000);
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
      expect(port, stderr).toBeDefined();
      const base = `http://127.0.0.1:${port}`;
      expect([(await request(base, '/limited')).status, (await request(base, '/limited')).status, (await request(base, '/free')).status]).toEqual([200, 429, 200]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
