// The imports of one VM: every `env` function Envoy links for an ABI 0.2.1 module (env-calls.ts)
// and the WASI set it registers under wasi_snapshot_preview1 and wasi_unstable (wasi-calls.ts),
// each behind the restriction guard cpp-host's V8 runtime applies to every host call: while the
// module initialises or inside its allocator, a call outside that phase's allow list traps
// ("restricted_callback"). The guard is made here, once per function, from the allow lists in
// abi.ts; with HostOptions.recordCalls every call is also recorded.
import {
  ALLOWED_DURING_ALLOC,
  ALLOWED_DURING_INIT,
  ENV_IMPORT_SIGNATURES,
  WASI_IMPORT_SIGNATURES,
} from './abi.ts';
import { emscriptenCalls, envCalls } from './env-calls.ts';
import { Restrict, type Vm } from './vm.ts';
import { wasiCalls } from './wasi-calls.ts';

type HostFn = (...args: never[]) => unknown;
type AnyFn = (...args: (number | bigint)[]) => number | bigint | undefined;

export function createImports(vm: Vm): WebAssembly.Imports {
  const env = { ...guarded(vm, 'env.', envCalls(vm)), ...emscriptenCalls(vm) };
  const wasi = guarded(vm, '', wasiCalls(vm));
  mustProvide(env, ENV_IMPORT_SIGNATURES, 'env.');
  mustProvide(wasi, WASI_IMPORT_SIGNATURES, '');
  const envOut = vm.proc.recordCalls ? recorded(vm, 'env.', env) : env;
  const wasiOut = vm.proc.recordCalls ? recorded(vm, '', wasi) : wasi;
  return { env: envOut, wasi_snapshot_preview1: wasiOut, wasi_unstable: wasiOut };
}

/** The restricted phases (Restrict bits) in which the call `name` traps. */
function trapsIn(name: string): number {
  return (ALLOWED_DURING_INIT.has(name) ? 0 : Restrict.INIT) | (ALLOWED_DURING_ALLOC.has(name) ? 0 : Restrict.ALLOC);
}

/** Each function behind its guard; one allowed in every phase is left as it is. */
function guarded(vm: Vm, prefix: string, fns: Record<string, HostFn>): Record<string, HostFn> {
  const out: Record<string, HostFn> = {};
  for (const [short, f] of Object.entries(fns)) {
    const name = prefix + short;
    const phases = trapsIn(name);
    out[short] = phases === 0 ? f : guard(vm, name, phases, f as AnyFn);
  }
  return out;
}

type Guard = (vm: Vm, name: string, phases: number, f: AnyFn) => AnyFn;
type N = number | bigint;

/**
 * The guard in front of `f`, by f's arity: each wrapper passes exactly the arguments it got, so a
 * host call costs no rest array (and a wrapper's call site sees only functions of one arity).
 */
const GUARDS: readonly Guard[] = [
  (vm, name, phases, f) => () => {
    if ((vm.restrict & phases) !== 0) vm.restricted(name);
    return f();
  },
  (vm, name, phases, f) => (a: N) => {
    if ((vm.restrict & phases) !== 0) vm.restricted(name);
    return f(a);
  },
  (vm, name, phases, f) => (a: N, b: N) => {
    if ((vm.restrict & phases) !== 0) vm.restricted(name);
    return f(a, b);
  },
  (vm, name, phases, f) => (a: N, b: N, c: N) => {
    if ((vm.restrict & phases) !== 0) vm.restricted(name);
    return f(a, b, c);
  },
  (vm, name, phases, f) => (a: N, b: N, c: N, d: N) => {
    if ((vm.restrict & phases) !== 0) vm.restricted(name);
    return f(a, b, c, d);
  },
  (vm, name, phases, f) => (a: N, b: N, c: N, d: N, e: N) => {
    if ((vm.restrict & phases) !== 0) vm.restricted(name);
    return f(a, b, c, d, e);
  },
];

/** Longer signatures (send_local_response, http_call, path_open) are not on a request's hot path. */
const guardAny: Guard = (vm, name, phases, f) => (...args: N[]) => {
  if ((vm.restrict & phases) !== 0) vm.restricted(name);
  return f(...args);
};

const guard: Guard = (vm, name, phases, f) => (GUARDS[f.length] ?? guardAny)(vm, name, phases, f);

/** Every call recorded in host.calls (HostOptions.recordCalls). */
function recorded(vm: Vm, prefix: string, fns: Record<string, HostFn>): Record<string, HostFn> {
  const calls = vm.proc.calls;
  const out: Record<string, HostFn> = {};
  for (const [name, f] of Object.entries(fns)) {
    out[name] = (...args: (number | bigint)[]) => {
      const call = { vm: vm.index, name: prefix + name, args, result: undefined as number | bigint | undefined };
      calls.push(call);
      call.result = (f as AnyFn)(...args);
      return call.result;
    };
  }
  return out;
}

/** The implemented set and the declared set (what Envoy links) must be the same. */
function mustProvide(fns: Record<string, HostFn>, declared: Readonly<Record<string, unknown>>, prefix: string): void {
  for (const n of Object.keys(declared)) if (!(n in fns)) throw new Error(`host bug: ${prefix}${n} missing`);
}
