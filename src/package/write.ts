// Writes an image layout directory so that, as with `-o FILE`, nothing is left half-written: the
// layout is built in a temporary sibling directory and renamed into place. An existing directory is
// replaced only when it is empty or is itself an image layout (what an earlier run wrote).
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { TarEntry } from './archive.ts';

/** A problem with the output path that the user must fix (exit 2), as opposed to a bug. */
export class OutputError extends Error {}

const LAYOUT_ENTRIES = new Set(['oci-layout', 'index.json', 'blobs']);

export async function writeLayoutDirectory(dir: string, files: readonly TarEntry[]): Promise<void> {
  const existing = await inspect(dir);
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const temporary = join(dirname(dir), `.${basename(dir)}.${suffix}`);
  try {
    await mkdir(temporary);
    for (const file of files) {
      const path = join(temporary, file.name);
      if (file.data === undefined) await mkdir(path, { recursive: true });
      else await writeFile(path, file.data, { flag: 'wx' });
    }
    if (existing === 'absent') {
      await rename(temporary, dir);
      return;
    }
    // Swap: move the old directory aside, the new one in, then drop the old one.
    const old = join(dirname(dir), `.${basename(dir)}.old.${suffix}`);
    await rename(dir, old);
    try {
      await rename(temporary, dir);
    } catch (err) {
      await rename(old, dir);
      throw err;
    }
    await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(temporary, { recursive: true, force: true });
    throw err;
  }
}

async function inspect(dir: string): Promise<'absent' | 'replaceable'> {
  let stat;
  try {
    stat = await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  if (!stat.isDirectory()) throw new OutputError(`${dir} exists and is not a directory (an output ending in .tar is written as one tar file)`);
  const entries = await readdir(dir);
  if (entries.length === 0) return 'replaceable';
  if (entries.includes('oci-layout') && entries.every((e) => LAYOUT_ENTRIES.has(e))) return 'replaceable';
  throw new OutputError(`${dir} exists and is not an OCI image layout; choose another --out or remove it`);
}
