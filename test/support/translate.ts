// Translates inline YAML through the public API, the way the CLI reads files.
import { formatDiagnostic } from '../../src/diagnostics.ts';
import { translateFiles, validateFiles, type TranslateOptions, type TranslateResult } from '../../src/translate.ts';
import { writeFiles } from './workspace.ts';

export interface InlineResult extends TranslateResult {
  paths: Record<string, string>;
  /** Formatted errors and warnings. */
  errorLines: string[];
  warningLines: string[];
}

/** `files` is name → YAML; a single string is written as `rules.yaml`. */
export async function translateInline(files: Record<string, string> | string, options: TranslateOptions = {}): Promise<InlineResult> {
  const contents = typeof files === 'string' ? { 'rules.yaml': files } : files;
  const paths = writeFiles(contents);
  const result = await translateFiles(Object.keys(contents).map((name) => paths[name]!), options);
  return {
    ...result,
    paths,
    errorLines: result.errors.map(formatDiagnostic),
    warningLines: result.warnings.map(formatDiagnostic),
  };
}

export async function validateInline(files: Record<string, string> | string, options: TranslateOptions = {}) {
  const contents = typeof files === 'string' ? { 'rules.yaml': files } : files;
  const paths = writeFiles(contents);
  const result = await validateFiles(Object.keys(contents).map((name) => paths[name]!), options);
  return { ...result, paths, errorLines: result.errors.map(formatDiagnostic) };
}
