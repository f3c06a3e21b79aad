// Printing diagnostics and summaries on stderr, one line each.
import { formatDiagnostic, type Diagnostic } from '../diagnostics.ts';
import type { CliIO } from './io.ts';

export function printDiagnostics(io: CliIO, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** e.g. `3 rules for app foo-app (2 files)`. */
export function describeRules(rules: number, apps: readonly string[], files: number): string {
  const forApps = apps.length === 0 ? '' : apps.length === 1 ? ` for app ${apps[0]}` : ` for apps ${apps.join(', ')}`;
  return `${plural(rules, 'rule')}${forApps} (${plural(files, 'file')})`;
}
