// `sergo package`: the OCI image layout is well-formed (index → manifest → config + one layer, every
// blob's digest and size match, media types as chosen, the layer holds exactly plugin.wasm = the
// module), the .tar holds the same files, and the same input always gives the same bytes.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { crc32, gzipStored, tarArchive } from '../../src/package/archive.ts';
import {
  buildWasmImage,
  isValidTag,
  isWasmModule,
  layoutFiles,
  layoutTar,
  MEDIA_TYPE_CONFIG,
  MEDIA_TYPE_INDEX,
  MEDIA_TYPE_LAYER,
  MEDIA_TYPE_MANIFEST,
} from '../../src/package/oci.ts';
import { lines } from '../support/cli.ts';
import { writeFiles } from '../support/workspace.ts';
import { sergo } from '../emit/helpers.ts';

/** A deterministic fake module: the wasm header, then 200 000 pseudo-random bytes (several deflate blocks). */
function fakeModule(seed = 1, size = 200_000): Buffer {
  const bytes = Buffer.alloc(8 + size);
  bytes.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  let x = seed;
  for (let i = 8; i < bytes.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Every regular file of a tar, by name. */
async function untar(data: Uint8Array): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  ex.end(Buffer.from(data));
  await done;
  return files;
}

/** Reads a layout (as files by path) and checks it all the way down; returns the module it holds. */
async function checkLayout(files: Map<string, Buffer>): Promise<{ module: Buffer; manifestDigest: string; tag: string }> {
  expect(JSON.parse(files.get('oci-layout')!.toString())).toEqual({ imageLayoutVersion: '1.0.0' });
  for (const [path, data] of files) {
    if (!path.startsWith('blobs/')) continue;
    expect(path).toMatch(/^blobs\/sha256\/[0-9a-f]{64}$/);
    expect(sha256(data)).toBe(path.slice('blobs/'.length).replace('/', ':'));
  }
  const blob = (d: { digest: string; size: number }) => {
    const data = files.get(`blobs/${d.digest.replace(':', '/')}`);
    expect(data, d.digest).toBeDefined();
    expect(data!.byteLength).toBe(d.size);
    return data!;
  };
  const index = JSON.parse(files.get('index.json')!.toString());
  expect(index.schemaVersion).toBe(2);
  expect(index.mediaType).toBe(MEDIA_TYPE_INDEX);
  expect(index.manifests).toHaveLength(1);
  const manifestDescriptor = index.manifests[0];
  expect(manifestDescriptor.mediaType).toBe(MEDIA_TYPE_MANIFEST);
  const manifest = JSON.parse(blob(manifestDescriptor).toString());
  expect(manifest.schemaVersion).toBe(2);
  expect(manifest.mediaType).toBe(MEDIA_TYPE_MANIFEST);
  expect(manifest.annotations).toEqual({ 'module.wasm.image/variant': 'compat' });
  expect(manifest.config.mediaType).toBe(MEDIA_TYPE_CONFIG);
  expect(manifest.layers).toHaveLength(1);
  expect(manifest.layers[0].mediaType).toBe(MEDIA_TYPE_LAYER);
  const layerTar = gunzipSync(blob(manifest.layers[0]));
  const config = JSON.parse(blob(manifest.config).toString());
  expect(config).toEqual({ architecture: 'wasm', os: 'wasip1', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] } });
  const layer = await untar(layerTar);
  expect([...layer.keys()]).toEqual(['plugin.wasm']);
  // Everything the layout holds is reachable from index.json.
  const reachable = new Set([manifestDescriptor.digest, manifest.config.digest, manifest.layers[0].digest]);
  expect([...files.keys()].filter((p) => p.startsWith('blobs/')).sort()).toEqual([...reachable].map((d) => `blobs/${d.replace(':', '/')}`).sort());
  return { module: layer.get('plugin.wasm')!, manifestDigest: manifestDescriptor.digest, tag: manifestDescriptor.annotations['org.opencontainers.image.ref.name'] };
}

function readLayoutDir(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else files.set(path, readFileSync(join(dir, path)));
    }
  };
  walk('');
  return files;
}

describe('OCI image', () => {
  it('is a well-formed layout whose single layer holds the module as plugin.wasm', async () => {
    const module = fakeModule();
    const image = await buildWasmImage(module, '1.2.3');
    const files = new Map(layoutFiles(image).filter((f) => f.data !== undefined).map((f) => [f.name, Buffer.from(f.data!)]));
    const found = await checkLayout(files);
    expect(found.module.equals(module)).toBe(true);
    expect(found.manifestDigest).toBe(image.manifestDigest);
    expect(found.tag).toBe('1.2.3');
    expect(image.moduleDigest).toBe(sha256(module));
  });

  it('is deterministic: same module → same bytes; another module → other digests; the tag is only in index.json', async () => {
    const a = await buildWasmImage(fakeModule(1), '0.1.0');
    const b = await buildWasmImage(fakeModule(1), '0.1.0');
    expect((await layoutTar(a)).equals(await layoutTar(b))).toBe(true);
    expect(a.manifestDigest).toBe(b.manifestDigest);
    const other = await buildWasmImage(fakeModule(2), '0.1.0');
    expect(other.manifestDigest).not.toBe(a.manifestDigest);
    expect(other.moduleDigest).not.toBe(a.moduleDigest);
    const retagged = await buildWasmImage(fakeModule(1), 'latest');
    expect(retagged.manifestDigest).toBe(a.manifestDigest);
    expect(retagged.index).not.toEqual(a.index);
  });

  it('pins the digests of a known module (a change in tar or gzip bytes shows here)', async () => {
    const image = await buildWasmImage(fakeModule(7, 1000), '0.1.0');
    expect(image.moduleDigest).toBe(sha256(fakeModule(7, 1000)));
    const layer = image.manifest.layers[0]!;
    // tar: 512-byte header + 1008 bytes padded to 1024 + 1024-byte end = 2560; gzip: 10 + 5 + 2560 + 8.
    expect(layer.size).toBe(2583);
    expect(image.blobs.get(layer.digest)!.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]));
    // Same on every machine and Node version: nothing but the module goes into these bytes.
    expect(layer.digest).toBe('sha256:7b4281c4bac77072e66072847fcc64f66512a05ee069526ae5c8f65912d9fef2');
    expect(image.manifest.config.digest).toBe('sha256:c1cac2971e3b84745899439c35eafeea55ed107097b1d4417323d4c6be717d2a');
    expect(image.manifestDigest).toBe('sha256:5af9114952e3b468576de6e06cc7c248f2286f380a09fb75d6fd9ed4e0994a9b');
  });

  it('checks tags and module headers', () => {
    expect(isValidTag('0.1.0')).toBe(true);
    expect(isValidTag('v1_2-rc.1')).toBe(true);
    expect(isValidTag('.hidden')).toBe(false);
    expect(isValidTag('a:b')).toBe(false);
    expect(isValidTag('x'.repeat(129))).toBe(false);
    expect(isWasmModule(fakeModule())).toBe(true);
    expect(isWasmModule(Buffer.from('\0asm\x02\0\0\0'))).toBe(false);
    expect(isWasmModule(Buffer.from('#!/bin/sh\n'))).toBe(false);
  });
});

describe('archives', () => {
  it('gzip with stored blocks round-trips through zlib at block boundaries', () => {
    for (const size of [0, 1, 65_535, 65_536, 131_070, 200_001]) {
      const data = fakeModule(size, size).subarray(8);
      const gz = gzipStored(data);
      expect(gunzipSync(gz).equals(data), `size ${size}`).toBe(true);
      expect(gz.byteLength).toBe(10 + Math.max(1, Math.ceil(size / 65_535)) * 5 + size + 8);
    }
  });

  it('crc32 is the gzip CRC', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('tar has fixed metadata and round-trips', async () => {
    const tar = await tarArchive([{ name: 'dir/' }, { name: 'dir/a.txt', data: Buffer.from('hello') }]);
    expect(tar.byteLength % 512).toBe(0);
    const entries: Array<{ name: string; mode?: number; mtime?: Date; uid?: number; type?: string }> = [];
    const ex = extract();
    const done = (async () => {
      for await (const entry of ex) {
        entries.push(entry.header);
        entry.resume();
      }
    })();
    ex.end(tar);
    await done;
    expect(entries.map((e) => [e.name, e.type, e.mode, e.uid, e.mtime?.getTime()])).toEqual([
      ['dir/', 'directory', 0o755, 0, 0],
      ['dir/a.txt', 'file', 0o644, 0, 0],
    ]);
    expect((await untar(tar)).get('dir/a.txt')!.toString()).toBe('hello');
  });
});

describe('sergo package', () => {
  const work = writeFiles({});
  const modulePath = join(work.dir, 'sergo.wasm');
  writeFileSync(modulePath, fakeModule(3));

  it('writes a layout directory and prints the digests', async () => {
    const out = join(work.dir, 'layout');
    const run = await sergo('package', '--module', modulePath, '--out', out, '--tag', 'v9');
    expect(run.code).toBe(0);
    const image = await buildWasmImage(fakeModule(3), 'v9');
    expect(run.stdout).toBe(`module   ${image.moduleDigest}\nmanifest ${image.manifestDigest}\n`);
    expect(lines(run.stderr)).toEqual([`ok: wrote ${out} (OCI image layout, tag v9, 200008 byte module)`]);
    const found = await checkLayout(readLayoutDir(out));
    expect(found.module.equals(fakeModule(3))).toBe(true);
    expect(found.tag).toBe('v9');
    // A second run replaces the earlier layout.
    writeFileSync(modulePath, fakeModule(4));
    expect((await sergo('package', '--module', modulePath, '--out', out)).code).toBe(0);
    expect((await checkLayout(readLayoutDir(out))).module.equals(fakeModule(4))).toBe(true);
    writeFileSync(modulePath, fakeModule(3));
  });

  it('writes FILE.tar holding the same layout (tar round trip), tagged with the version by default', async () => {
    const dir = join(work.dir, 'for-tar');
    const tarPath = join(work.dir, 'sergo.tar');
    expect((await sergo('package', '--module', modulePath, '--out', dir)).code).toBe(0);
    const run = await sergo('package', '--module', modulePath, '--out', tarPath);
    expect(run.code).toBe(0);
    const fromTar = await untar(readFileSync(tarPath));
    const fromDir = readLayoutDir(dir);
    expect([...fromTar.keys()].sort()).toEqual([...fromDir.keys()].sort());
    for (const [name, data] of fromDir) expect(fromTar.get(name)!.equals(data), name).toBe(true);
    expect((await checkLayout(fromTar)).tag).toBe('0.1.0');
    const again = await sergo('package', '--module', modulePath, '--out', tarPath);
    expect(again.stdout).toBe(run.stdout);
    expect(readFileSync(tarPath).equals(await layoutTar(await buildWasmImage(fakeModule(3), '0.1.0')))).toBe(true);
  });

  it.each([
    [['--module', 'nope.wasm'], /^nope\.wasm: cannot read: ENOENT/],
    [['--tag', 'a:b'], /^sergo: --tag: "a:b" is not a valid image tag/],
  ])('rejects %j with exit 2 and writes nothing', async (args, message) => {
    const out = join(work.dir, `never-${args.join('')}.tar`.replace(/[^\w.-]/g, '_'));
    const run = await sergo('package', '--module', modulePath, '--out', out, ...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)[0]).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects a file that is not a module, a missing --out, and a directory it did not write', async () => {
    const text = join(work.dir, 'not.wasm');
    writeFileSync(text, 'hello');
    const notWasm = await sergo('package', '--module', text, '--out', join(work.dir, 'x'));
    expect(notWasm.code).toBe(2);
    expect(lines(notWasm.stderr)).toEqual([`${text}: not a WebAssembly module (no \\0asm version 1 header)`]);
    expect(existsSync(join(work.dir, 'x'))).toBe(false);
    expect((await sergo('package', '--module', modulePath)).code).toBe(2);
    const foreign = join(work.dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'keep.txt'), 'mine');
    const refused = await sergo('package', '--module', modulePath, '--out', foreign);
    expect(refused.code).toBe(2);
    expect(lines(refused.stderr)).toEqual([`sergo: --out: ${foreign} exists and is not an OCI image layout; choose another --out or remove it`]);
    expect(readdirSync(foreign)).toEqual(['keep.txt']);
    expect(readdirSync(work.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
