// Where rules are read from, as kubectl reads manifests: files; `-`, standard input; a directory, the
// *.yaml, *.yml and *.json files directly in it, sorted by name (names starting with `.` skipped, as
// a ConfigMap volume's `..data`), and with `recursive` (-R) those of its subdirectories too, each
// directory's files before its subdirectories'. An unreadable input is an input error, reported
// against its path.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Diagnostics } from './diagnostics.ts';
import type { SourceFile } from './spec/load.ts';

/** The name standard input has in messages. */
export const STDIN_NAME = '<stdin>';
const RULE_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const RECURSIVE_HINT: Record<string, string> = { true: ' or below', false: ' (-R to look in its subdirectories)', undefined: '' };

export interface InputOptions {
  /** Directories include their subdirectories (kubectl's -R); undefined: the command has no -R (no hint of it). */
  recursive?: boolean;
  /** A directory without rule files is a warning, not an error (`sergo xds --allow-empty`: a volume filled later). */
  allowEmptyDirectory?: boolean;
}

export async function readSources(inputs: readonly string[], diagnostics: Diagnostics, options: InputOptions = {}): Promise<SourceFile[]> {
  const sources: SourceFile[] = [];
  let stdinRead = false;
  for (const path of await expandInputs(inputs, diagnostics, options)) {
    if (path === '-') {
      if (stdinRead) diagnostics.add({ severity: 'error', file: STDIN_NAME, message: '- is given twice: standard input can be read once' });
      else sources.push({ path: STDIN_NAME, text: await readStdin() });
      stdinRead = true;
      continue;
    }
    try {
      sources.push({ path, text: await readFile(path, 'utf8') });
    } catch (err) {
      if (!isFileSystemError(err)) throw err;
      diagnostics.add({ severity: 'error', file: path, message: `cannot read: ${err.message}` });
    }
  }
  return sources;
}

/** Inputs with each directory replaced by its rule files (a directory without any is reported). */
export async function expandInputs(inputs: readonly string[], diagnostics: Diagnostics, options: InputOptions = {}): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    if (input === '-' || !(await isDirectory(input))) {
      files.push(input);
      continue;
    }
    const found = await ruleFiles(input, options.recursive === true);
    if (found.length === 0) diagnostics.add({ severity: options.allowEmptyDirectory === true ? 'warning' : 'error', file: input, message: `no *.yaml, *.yml or *.json file in this directory${RECURSIVE_HINT[String(options.recursive)]}` });
    files.push(...found);
  }
  return files;
}

async function ruleFiles(dir: string, recursive: boolean): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  const subdirectories: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    const directory = e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(path)));
    if (directory) subdirectories.push(path);
    else if (RULE_EXTENSIONS.has(extname(e.name).toLowerCase())) files.push(path);
  }
  if (recursive) for (const sub of subdirectories) files.push(...(await ruleFiles(sub, true)));
  return files;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // not there: reading it reports why
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Errors from the file system carry a code (ENOENT, EACCES, EISDIR…); anything else is a bug. */
function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
