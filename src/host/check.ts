// Load-time checks: refuse exactly the modules Envoy (proxy-wasm-cpp-host) would refuse to load,
// so a filter that passes our tests also links in Envoy. Messages follow cpp-host's wording.
import {
  ABI_0_1_0_ONLY_IMPORTS,
  ENV_IMPORT_SIGNATURES,
  EXPORT_SIGNATURES,
  WASI_IMPORT_SIGNATURES,
  WASI_MODULES,
  type Sig,
} from './abi.ts';
import { readBinaryInfo, type FuncSig } from './binary.ts';

/** Thrown when a module would not load in Envoy; the message lists every problem found. */
export class HostLoadError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`module refused (Envoy would refuse to load it):\n  - ${problems.join('\n  - ')}`);
    this.name = 'HostLoadError';
    this.problems = problems;
  }
}

/** Bytes of modules compiled by compileModule(), so checkModule() can also verify signatures. */
const moduleBytes = new WeakMap<WebAssembly.Module, Uint8Array>();

const fmt = (s: { params: string; results: string }): string => {
  const t = (c: string) => ({ i: 'i32', I: 'i64', f: 'f32', F: 'f64' })[c] ?? '?';
  return `(${[...s.params].map(t).join(', ')}) -> (${[...s.results].map(t).join(', ')})`;
};
const sameSig = (a: FuncSig, b: Sig): boolean => a.params === b.params && a.results === b.results;

function importProblem(module: string, name: string, kind: string): string | undefined {
  const where = `${module}.${name}`;
  if (kind !== 'function') {
    return `import ${where} is a ${kind}; Envoy provides only functions, so it would refuse to load the module`;
  }
  if (module === 'env') {
    if (Object.hasOwn(ENV_IMPORT_SIGNATURES, name)) return undefined;
    if (ABI_0_1_0_ONLY_IMPORTS.has(name)) {
      return `import ${where} exists only in Proxy-Wasm ABI 0.1.0; Envoy does not link it for a 0.2.1 module and would refuse to load it`;
    }
    return `import ${where} is not a host function Envoy provides (ABI 0.2.1); Envoy would refuse to load the module (missing import)`;
  }
  if ((WASI_MODULES as readonly string[]).includes(module)) {
    if (Object.hasOwn(WASI_IMPORT_SIGNATURES, name)) return undefined;
    return `import ${where} is not a WASI function Envoy provides; Envoy would refuse to load the module (missing import)`;
  }
  return `import ${where}: Envoy provides no module "${module}" and would refuse to load the module (missing import)`;
}

/** Throws HostLoadError listing every reason Envoy would refuse this module. */
export function checkModule(m: WebAssembly.Module): void {
  const problems: string[] = [];
  const exports = new Map(WebAssembly.Module.exports(m).map((e) => [e.name, e.kind] as const));
  const isFn = (n: string) => exports.get(n) === 'function';

  if (!isFn('proxy_abi_version_0_2_1')) {
    const other = ['proxy_abi_version_0_1_0', 'proxy_abi_version_0_2_0'].find(isFn);
    problems.push(
      other
        ? `Missing or unknown Proxy-Wasm ABI version: the module exports ${other}; this host implements ABI 0.2.1 only (export proxy_abi_version_0_2_1)`
        : 'Missing or unknown Proxy-Wasm ABI version (export proxy_abi_version_0_2_1)',
    );
  }
  if (!isFn('malloc') && !isFn('proxy_on_memory_allocate')) {
    problems.push('Wasm module is missing malloc function (export malloc or proxy_on_memory_allocate)');
  }
  if (exports.get('memory') !== 'memory') problems.push('Wasm module exports no memory named "memory"');

  for (const imp of WebAssembly.Module.imports(m)) {
    const p = importProblem(imp.module, imp.name, imp.kind);
    if (p) problems.push(p);
  }

  const bytes = moduleBytes.get(m);
  const info = bytes ? readBinaryInfo(bytes) : undefined;
  if (info) {
    for (const imp of info.imports) {
      if (imp.kind !== 'function' || !imp.sig) continue;
      const table =
        imp.module === 'env'
          ? ENV_IMPORT_SIGNATURES
          : (WASI_MODULES as readonly string[]).includes(imp.module)
            ? WASI_IMPORT_SIGNATURES
            : undefined;
      if (!table || !Object.hasOwn(table, imp.name)) continue; // already reported as missing
      const want = table[imp.name]!;
      if (!sameSig(imp.sig, want)) {
        problems.push(
          `import ${imp.module}.${imp.name} has type ${fmt(imp.sig)} but Envoy provides ${fmt(want)}; Envoy would refuse to load the module (import type mismatch)`,
        );
      }
    }
    for (const ex of info.exports) {
      if (ex.kind !== 'function' || !ex.sig || !Object.hasOwn(EXPORT_SIGNATURES, ex.name)) continue;
      const want = EXPORT_SIGNATURES[ex.name]!;
      if (!sameSig(ex.sig, want)) {
        problems.push(`Bad function signature for: ${ex.name}: exported ${fmt(ex.sig)}, Envoy expects ${fmt(want)}`);
      }
    }
  }
  if (problems.length) throw new HostLoadError(problems);
}

/** Compiles the bytes and runs checkModule (including signature checks) on the result. */
export function compileModule(bytes: Uint8Array): WebAssembly.Module {
  let m: WebAssembly.Module;
  try {
    m = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new HostLoadError([`Failed to load Wasm bytecode: ${(e as Error).message}`]);
  }
  moduleBytes.set(m, bytes);
  checkModule(m);
  return m;
}
