// The restriction guard on every import, not just a sample: cpp-host's V8 runtime traps a host call
// made while the module initialises or from inside its allocator unless that phase's allow list
// names it. Each import is called once from _initialize and once from malloc, in its own module.
import { describe, expect, test } from 'vitest';
import { ENV_IMPORT_SIGNATURES, WASI_IMPORT_SIGNATURES, type Sig } from '../../src/host/abi.ts';
import { ProxyWasmHost } from '../../src/host/index.ts';
import { RET_PTR, RET_SIZE, guest } from './wat.ts';

interface Import {
  module: 'env' | 'wasi';
  name: string;
  sig: Sig;
}
const IMPORTS: Import[] = [
  ...Object.entries(ENV_IMPORT_SIGNATURES).map(([name, sig]) => ({ module: 'env' as const, name, sig })),
  ...Object.entries(WASI_IMPORT_SIGNATURES).map(([name, sig]) => ({ module: 'wasi' as const, name, sig })),
];
const label = (i: Import) => (i.module === 'env' ? `env.${i.name}` : i.name);

/** A call of the import with all-zero arguments, its result dropped. */
function callZero(i: Import): string {
  const args = [...i.sig.params].map((c) => (c === 'I' ? '(i64.const 0)' : '(i32.const 0)')).join(' ');
  const call = `(call $${i.name} ${args})`;
  return i.sig.results ? `(drop ${call})` : call;
}

const importsOf = (i: Import, alsoEnv: string[] = []) =>
  i.module === 'env' ? { env: [...new Set([i.name, ...alsoEnv])] } : { env: alsoEnv, wasi: [i.name] };

/** Whether calling the import from _initialize fails the VM. */
async function trapsDuringInit(i: Import): Promise<boolean> {
  const module = await guest({ ...importsOf(i), passThrough: false, body: `(func (export "_initialize") ${callZero(i)})` });
  const host = new ProxyWasmHost({ module });
  host.start();
  return host.vms[0]!.failed;
}

/** Whether calling the import from malloc (run for a header value the filter reads) fails the VM. */
async function trapsInAllocator(i: Import): Promise<boolean> {
  const alloc = {
    wat: `(global $heap (mut i32) (i32.const 65536))
      (func (export "malloc") (param $n i32) (result i32) (local $p i32)
        ${callZero(i)}
        (local.set $p (global.get $heap))
        (global.set $heap (i32.add (local.get $p) (local.get $n)))
        (local.get $p))`,
  };
  const pause = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1))`;
  const module = await guest({ ...importsOf(i, ['proxy_get_header_map_value']), alloc, body: pause, data: { 1024: 'a' } });
  const host = new ProxyWasmHost({ module });
  host.start();
  const s = host.stream();
  s.requestHeaders([['a', 'v']]);
  s.invoke('call_proxy_get_header_map_value', 0, 1024, 1, RET_PTR, RET_SIZE);
  return host.vms[0]!.failed;
}

async function allowedWhere(traps: (i: Import) => Promise<boolean>): Promise<string[]> {
  const allowed: string[] = [];
  for (const i of IMPORTS) if (!(await traps(i))) allowed.push(label(i));
  return allowed.sort();
}

describe('the restriction guard on every import', () => {
  test('while the module initialises: logging, args, environ, prestat, clock and random only', async () => {
    expect(await allowedWhere(trapsDuringInit)).toEqual(
      [
        'args_get',
        'args_sizes_get',
        'clock_time_get',
        'environ_get',
        'environ_sizes_get',
        'fd_prestat_dir_name',
        'fd_prestat_get',
        'fd_write',
        'random_get',
        'env.proxy_log',
        // the emscripten helpers are not guarded here (cpp-host's V8 guards them too)
        'env.emscripten_notify_memory_growth',
        'env.pthread_equal',
      ].sort(),
    );
  }, 60_000);

  test('inside the allocator: proxy_log, fd_write and clock_time_get only', async () => {
    expect(await allowedWhere(trapsInAllocator)).toEqual(
      ['clock_time_get', 'fd_write', 'env.proxy_log', 'env.emscripten_notify_memory_growth', 'env.pthread_equal'].sort(),
    );
  }, 60_000);

  test('a trapping call names itself and the phase', async () => {
    const get = IMPORTS.find((i) => i.name === 'proxy_get_shared_data')!;
    const module = await guest({ env: [get.name], passThrough: false, body: `(func (export "_initialize") ${callZero(get)})` });
    const host = new ProxyWasmHost({ module });
    expect(host.start()).toBe(false);
    expect(host.vms[0]!.failure).toContain('restricted_callback: env.proxy_get_shared_data called while the module initialises');
  });
});
