// The bootstrap Envoy runs, written by `sergo translate --format envoy` — the CLI itself, as a user
// runs it — so that every Envoy this project starts runs exactly what users are told to run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, SERGO_CLI } from './paths.ts';

export interface BootstrapAddresses {
  /** http://HOST:PORT of the upstream */
  upstream: string;
  /** http://HOST:PORT of the rate-limit service's HTTP/JSON endpoint (limitMode Global rules) */
  rls?: string;
  /** HOST:PORT the listener binds */
  listen: string;
  /** HOST:PORT the admin interface binds */
  admin: string;
  /** the module's path as Envoy sees it */
  module: string;
}

/**
 * Runs `sergo translate RULES --format envoy … -o DIR/bootstrap.yaml` and returns the bootstrap's
 * text. `extraArgs`: more translate flags (--fail-policy, --app, --rls-…). Throws with the CLI's
 * diagnostics when it refuses.
 */
export function translateBootstrap(rulesFile: string, dir: string, a: BootstrapAddresses, extraArgs: readonly string[] = []): string {
  const output = join(dir, 'bootstrap.yaml');
  const args = [SERGO_CLI, 'translate', rulesFile, '--format', 'envoy',
    '--upstream', a.upstream, '--listen', a.listen, '--admin', a.admin, '--module', a.module,
    ...(a.rls === undefined ? [] : ['--rls', a.rls]), ...extraArgs, '-o', output];
  try {
    execFileSync(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`sergo translate failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? String(err)}`);
  }
  return readFileSync(output, 'utf8');
}
