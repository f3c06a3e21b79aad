// `sergo controller` as a user runs it (the real CLI, no API server needed): the CRDs it prints are
// deploy/crds.yaml; flags that cannot work (or a missing --url) are refused before anything starts (exit 2).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/paths.ts';
import { CRDS, runProcess, SERGO_CLI } from './support.ts';

const sergo = (args: string[]) => runProcess(process.execPath, [SERGO_CLI, ...args], undefined, repoRoot);

describe('sergo controller (CLI)', () => {
  it('`sergo controller crds` prints deploy/crds.yaml', async () => {
    const run = await sergo(['controller', 'crds']);
    expect(run.ok).toBe(true);
    expect(run.stdout).toBe(readFileSync(CRDS, 'utf8'));
  });

  it.each([
    [[], 'sergo controller: the WasmPlugins need --url: where the proxies fetch the module'],
    [['--no-wasm-plugins'], '--no-wasm-plugins without --xds would write and serve nothing'],
    [['--url', 'ftp://example.com/sergo.wasm'], '--url: "ftp://example.com/sergo.wasm" must start with oci://, file://, http:// or https://'],
    [['--sha256', 'abc'], '--sha256: "abc" is not a SHA-256 digest'],
    [['--renew-every-ms', '20000'], 'expected --renew-every-ms < --renew-deadline-ms < --lease-duration-ms'],
    [['--rls', 'not a url'], '--rls: "not a url" is not a URL'],
    [['--url', 'oci://registry.example/sergo-wasm:1', '--kubeconfig', '/nonexistent/kubeconfig'], 'sergo controller: not started: '],
  ])('refuses %j (exit 2)', async (args, message) => {
    const run = await sergo(['controller', ...args, '--admin', '127.0.0.1:0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
