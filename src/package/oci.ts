// The module as an OCI image layout that Istio pulls from `oci://` (WasmPlugin.url).
//
// Format: the Wasm image spec's *compat* variant with standard OCI media types — what istio-agent
// (pkg/wasm/imagefetcher.go) tries first:
//   manifest  application/vnd.oci.image.manifest.v1+json, annotation module.wasm.image/variant=compat
//   config    application/vnd.oci.image.config.v1+json
//   1 layer   application/vnd.oci.image.layer.v1.tar+gzip, a tar holding exactly `plugin.wasm`
// Why not the *oci* variant (layer application/vnd.module.wasm.content.layer.v1+wasm, config
// application/vnd.module.wasm.config.v1+json)? istio-agent accepts that variant only with exactly
// two layers, and with custom media types some registries and tools refuse or mangle it; the compat
// image is an ordinary image every registry, crane, oras, skopeo and docker handle.
//
// Layout (OCI image-layout spec): `oci-layout`, `index.json` (one manifest, tagged through
// org.opencontainers.image.ref.name), `blobs/sha256/<hex>`. Everything is byte-deterministic:
// canonical JSON (fixed key order, no whitespace), tar with fixed headers, gzip without timestamps.
import { gzipStored, sha256Digest, tarArchive, type TarEntry } from './archive.ts';

export const MEDIA_TYPE_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_TYPE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_TYPE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_TYPE_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const WASM_VARIANT_ANNOTATION = 'module.wasm.image/variant';
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** The file istio-agent extracts from a compat layer. */
export const PLUGIN_FILE = 'plugin.wasm';
export const OCI_LAYOUT_VERSION = '1.0.0';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPE_MANIFEST;
  config: Descriptor;
  layers: Descriptor[];
  annotations: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPE_INDEX;
  manifests: Descriptor[];
}

export interface WasmImage {
  tag: string;
  /** sha256 of the module itself (what an http(s):// WasmPlugin url is checked against). */
  moduleDigest: string;
  /** sha256 of the manifest: the image digest (what an oci:// WasmPlugin sha256 is checked against). */
  manifestDigest: string;
  manifest: ImageManifest;
  index: ImageIndex;
  /** Every blob by digest: config, layer, manifest. */
  blobs: Map<string, Uint8Array>;
}

/** OCI tag grammar (distribution spec). */
export function isValidTag(tag: string): boolean {
  return /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(tag);
}

/** `\0asm` + version 1. */
export function isWasmModule(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d && bytes[4] === 1 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0;
}

export async function buildWasmImage(module: Uint8Array, tag: string): Promise<WasmImage> {
  if (!isValidTag(tag)) throw new Error(`invalid tag ${JSON.stringify(tag)}`);
  const layerTar = await tarArchive([{ name: PLUGIN_FILE, data: module }]);
  const layer = gzipStored(layerTar);
  const config = canonicalJson({
    architecture: 'wasm',
    os: 'wasip1',
    config: {},
    rootfs: { type: 'layers', diff_ids: [sha256Digest(layerTar)] },
  });
  const blobs = new Map<string, Uint8Array>();
  const configDescriptor = addBlob(blobs, MEDIA_TYPE_CONFIG, config);
  // No org.opencontainers.image.title on the layer: `oras pull` would save the tar.gz under that name.
  const layerDescriptor = addBlob(blobs, MEDIA_TYPE_LAYER, layer);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    config: configDescriptor,
    layers: [layerDescriptor],
    annotations: { [WASM_VARIANT_ANNOTATION]: 'compat' },
  };
  const manifestDescriptor = { ...addBlob(blobs, MEDIA_TYPE_MANIFEST, canonicalJson(manifest)), annotations: { [REF_NAME_ANNOTATION]: tag } };
  return {
    tag,
    moduleDigest: sha256Digest(module),
    manifestDigest: manifestDescriptor.digest,
    manifest,
    index: { schemaVersion: 2, mediaType: MEDIA_TYPE_INDEX, manifests: [manifestDescriptor] },
    blobs,
  };
}

/** The files of the image layout, in a fixed order: oci-layout, index.json, then blobs by digest. */
export function layoutFiles(image: WasmImage): TarEntry[] {
  const blobs = [...image.blobs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    { name: 'oci-layout', data: canonicalJson({ imageLayoutVersion: OCI_LAYOUT_VERSION }) },
    { name: 'index.json', data: canonicalJson(image.index) },
    { name: 'blobs/' },
    { name: 'blobs/sha256/' },
    ...blobs.map(([digest, data]) => ({ name: blobPath(digest), data })),
  ];
}

/** The layout packed as one tar (what `oras cp --from-oci-layout FILE.tar:TAG` reads). */
export async function layoutTar(image: WasmImage): Promise<Buffer> {
  return tarArchive(layoutFiles(image));
}

export function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

function addBlob(blobs: Map<string, Uint8Array>, mediaType: string, data: Uint8Array): Descriptor {
  const digest = sha256Digest(data);
  blobs.set(digest, data);
  return { mediaType, digest, size: data.byteLength };
}

/** JSON without whitespace; key order as built (all objects here are built in a fixed order). */
function canonicalJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
