// Byte-exact archives for the OCI image: tar (via tar-stream, fixed headers) and gzip (stored deflate
// blocks, written here). Both depend only on their input, so the same module always gives the same
// digests, on any machine and Node version. zlib's compressed output is not stable across zlib builds
// (Node ships Chromium's zlib, whose output depends on the CPU's SIMD support), so the layer is gzip
// without compression: ~2.5× larger than gzip -9, which for a module of about 100 KB does not matter.
import { createHash } from 'node:crypto';
import { pack as tarPack, type Header } from 'tar-stream';

export interface TarEntry {
  /** Path inside the archive; a directory ends with `/`. */
  name: string;
  /** Absent for a directory. */
  data?: Uint8Array;
}

/** Fixed metadata: mtime 0, uid/gid 0, no user names, 0644 files / 0755 directories. */
export async function tarArchive(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const collected = new Promise<void>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => void chunks.push(chunk as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const entry of entries) {
    const directory = entry.data === undefined;
    const header: Partial<Header> & Pick<Header, 'name'> = {
      name: entry.name,
      type: directory ? 'directory' : 'file',
      mode: directory ? 0o755 : 0o644,
      size: directory ? 0 : entry.data!.byteLength,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
    };
    await new Promise<void>((resolve, reject) => {
      const callback = (err?: Error | null) => (err ? reject(err) : resolve());
      if (directory) pack.entry(header, callback);
      else pack.entry(header, entry.data!, callback);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

const MAX_STORED_BLOCK = 0xffff;

/**
 * RFC 1952 gzip of `data` with RFC 1951 stored (uncompressed) blocks. Header: no name, mtime 0,
 * XFL 0, OS 255 (unknown), so nothing but the data affects the bytes.
 */
export function gzipStored(data: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(data.byteLength / MAX_STORED_BLOCK));
  const out = Buffer.alloc(10 + blocks * 5 + data.byteLength + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff], 0);
  let at = 10;
  for (let i = 0; i < blocks; i++) {
    const chunk = data.subarray(i * MAX_STORED_BLOCK, Math.min(data.byteLength, (i + 1) * MAX_STORED_BLOCK));
    out[at] = i === blocks - 1 ? 1 : 0; // BFINAL on the last block, BTYPE 00 (stored)
    out.writeUInt16LE(chunk.byteLength, at + 1);
    out.writeUInt16LE(~chunk.byteLength & 0xffff, at + 3);
    out.set(chunk, at + 5);
    at += 5 + chunk.byteLength;
  }
  out.writeUInt32LE(crc32(data), at);
  out.writeUInt32LE(data.byteLength >>> 0, at + 4);
  return out;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected, as gzip uses). */
export function crc32(data: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.byteLength; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** `sha256:<hex>`. */
export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
