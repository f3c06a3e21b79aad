// Test helper: compile hand-written .wat with wabt, and build small proxy-wasm modules from parts.
//
// guest() assembles: the env/WASI imports a test asks for (typed from the ABI table), the
// ABI marker, a memory, an allocator, optional `call_<import>` pass-through exports (so a test
// can call any host function with the stream or root context current, via invoke()), data
// segments and the test's own callbacks. Memory map used by the tests:
//   0..63      scratch: ret slots at RET_PTR (8) and RET_SIZE (12), results at 16..63
//   64..1023   per-test result words
//   1024..     data segments (strings)
//   65536..    the bump allocator's heap
import wabtInit from 'wabt';
import { ENV_IMPORT_SIGNATURES, WASI_IMPORT_SIGNATURES, type Sig } from '../../src/host/abi.ts';
import { compileModule } from '../../src/host/index.ts';

const wabtReady = wabtInit();

export async function wat2wasm(text: string): Promise<Uint8Array> {
  const wabt = await wabtReady;
  const mod = wabt.parseWat('test.wat', text, { mutable_globals: true, bulk_memory: true, sign_extension: true });
  try {
    mod.validate();
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

/** Compiles and checks (compileModule). */
export async function load(text: string): Promise<WebAssembly.Module> {
  return compileModule(await wat2wasm(text));
}

/** Compiles without the host's checks. */
export async function rawModule(text: string): Promise<WebAssembly.Module> {
  return new WebAssembly.Module((await wat2wasm(text)) as Uint8Array<ArrayBuffer>);
}

export const RET_PTR = 8;
export const RET_SIZE = 12;

const T: Record<string, string> = { i: 'i32', I: 'i64' };
const params = (s: Sig) => [...s.params].map((c) => T[c]).join(' ');
const results = (s: Sig) => [...s.results].map((c) => T[c]).join(' ');

function importLine(module: string, name: string, s: Sig): string {
  const p = s.params ? ` (param ${params(s)})` : '';
  const r = s.results ? ` (result ${results(s)})` : '';
  return `(import "${module}" "${name}" (func $${name}${p}${r}))`;
}

function passThrough(name: string, s: Sig): string {
  const p = s.params ? ` (param ${params(s)})` : '';
  const r = s.results ? ` (result ${results(s)})` : '';
  const args = [...s.params].map((_, i) => `(local.get ${i})`).join(' ');
  return `(func (export "call_${name}")${p}${r} (call $${name} ${args}))`;
}

/** Escapes bytes for a WAT string literal. */
export function watString(v: string | Uint8Array): string {
  const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : v;
  let out = '';
  for (const b of bytes) out += `\\${b.toString(16).padStart(2, '0')}`;
  return `"${out}"`;
}

export interface GuestParts {
  /** env imports: 'all' (default) or a list of names */
  env?: 'all' | string[];
  /** WASI imports from wasi_snapshot_preview1 */
  wasi?: string[];
  /** add call_<import> exports (default true) */
  passThrough?: boolean;
  /** allocator: 'malloc' (default), 'pma' (proxy_on_memory_allocate only), 'none', or custom WAT */
  alloc?: 'malloc' | 'pma' | 'none' | { wat: string };
  /** export proxy_abi_version_0_2_1 (default true) */
  abi?: boolean;
  /** data segments: address → string */
  data?: Record<number, string | Uint8Array>;
  /** the test's callbacks and other definitions */
  body?: string;
}

/**
 * The default allocator: a bump allocator from 64 KiB that grows memory as needed. It counts its
 * calls in the exported global `mallocs` and remembers the last size in `last_malloc`.
 */
const BUMP = (exportName: string) => `
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (export "${exportName}") (param $n i32) (result i32)
    (local $p i32)
    (global.set $mallocs (i32.add (global.get $mallocs) (i32.const 1)))
    (global.set $last_malloc (local.get $n))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8))))
    (block $done
      (loop $grow
        (br_if $done (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
        (drop (memory.grow (i32.const 1)))
        (br $grow)))
    (local.get $p))`;

export function guestText(parts: GuestParts = {}): string {
  const envNames = parts.env === undefined || parts.env === 'all' ? Object.keys(ENV_IMPORT_SIGNATURES) : parts.env;
  const lines: string[] = ['(module'];
  for (const n of envNames) lines.push(importLine('env', n, ENV_IMPORT_SIGNATURES[n]!));
  for (const n of parts.wasi ?? []) lines.push(importLine('wasi_snapshot_preview1', n, WASI_IMPORT_SIGNATURES[n]!));
  lines.push('(memory (export "memory") 2)');
  lines.push('(global $mallocs (export "mallocs") (mut i32) (i32.const 0))');
  lines.push('(global $last_malloc (export "last_malloc") (mut i32) (i32.const -1))');
  const alloc = parts.alloc ?? 'malloc';
  if (alloc === 'malloc') lines.push(BUMP('malloc'));
  else if (alloc === 'pma') lines.push(BUMP('proxy_on_memory_allocate'));
  else if (alloc !== 'none') lines.push(alloc.wat);
  if (parts.abi ?? true) lines.push('(func (export "proxy_abi_version_0_2_1"))');
  if (parts.passThrough ?? true) {
    for (const n of envNames) lines.push(passThrough(n, ENV_IMPORT_SIGNATURES[n]!));
    for (const n of parts.wasi ?? []) lines.push(passThrough(n, WASI_IMPORT_SIGNATURES[n]!));
  }
  for (const [addr, s] of Object.entries(parts.data ?? {})) lines.push(`(data (i32.const ${addr}) ${watString(s)})`);
  if (parts.body) lines.push(parts.body);
  lines.push(')');
  return lines.join('\n');
}

export const guest = (parts: GuestParts = {}): Promise<WebAssembly.Module> => load(guestText(parts));

// ---------------------------------------------------------------- guest memory access from tests

interface HasExports {
  exports: WebAssembly.Exports;
}
const mem = (vm: HasExports) => (vm.exports.memory as WebAssembly.Memory).buffer;

export function poke(vm: HasExports, addr: number, data: string | Uint8Array): [number, number] {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  new Uint8Array(mem(vm)).set(bytes, addr);
  return [addr, bytes.length];
}
export const peek = (vm: HasExports, addr: number, len: number): Uint8Array => new Uint8Array(mem(vm)).slice(addr, addr + len);
export const u32 = (vm: HasExports, addr: number): number => new DataView(mem(vm)).getUint32(addr, true);
export const setU32 = (vm: HasExports, addr: number, v: number): void => new DataView(mem(vm)).setUint32(addr, v, true);
export const u64 = (vm: HasExports, addr: number): bigint => new DataView(mem(vm)).getBigUint64(addr, true);
export const i64 = (vm: HasExports, addr: number): bigint => new DataView(mem(vm)).getBigInt64(addr, true);
export const global = (vm: HasExports, name: string): number => (vm.exports[name] as WebAssembly.Global).value as number;
/** The bytes the last ret_ptr/ret_size pair (RET_PTR/RET_SIZE) points at. */
export const retBytes = (vm: HasExports): Uint8Array => peek(vm, u32(vm, RET_PTR), u32(vm, RET_SIZE));
export const retText = (vm: HasExports): string => new TextDecoder().decode(retBytes(vm));
/** Byte-string (latin1) view of the ret bytes. */
export const retByteString = (vm: HasExports): string => Buffer.from(retBytes(vm)).toString('latin1');
