// The package version (package.json): the one source for `sergo --version`, the default image tag
// of `sergo package` and the default module URL of `--format istio`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root.ts';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    cached = pkg.version;
  }
  return cached;
}
