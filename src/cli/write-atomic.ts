// Writes a file so that readers (and a crash) see either the old content or the new, never half:
// write a temporary file next to it, then rename over it.
import { randomBytes } from 'node:crypto';
import { rm, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, data, { flag: 'wx' });
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    // The temporary name is ours, not the user's: a message names the file they asked for.
    if (err instanceof Error) {
      err.message = err.message.replaceAll(temporary, path);
      if (typeof (err as NodeJS.ErrnoException).path === 'string') (err as NodeJS.ErrnoException).path = path;
    }
    throw err;
  }
}
