// Per-request cost of the host itself, below the empty AssemblyScript module:
//   npx tsx bench/host-overhead.ts [iterations]
// Module A exports the stream callbacks and does nothing (host + call overhead only);
// module B also reads ':path' and one property in on_request_headers (two host calls, two mallocs).
// `npm run bench` reports module A as "host alone" in its decision-cost section.
import { ProxyWasmHost } from '../src/host/index.ts';
import { guest } from '../test/host/wat.ts';

// A scratch allocator (the guest copies and frees at once, like the thin AS binding).
const SCRATCH = { wat: `(func (export "malloc") (param i32) (result i32) (i32.const 32768))` };
export const CALLBACKS = (requestHeaders: string) => `
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) ${requestHeaders} (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32))`;
export const TWO_CALLS = `
  (drop (call $proxy_get_header_map_value (i32.const 0) (i32.const 1024) (i32.const 5) (i32.const 8) (i32.const 12)))
  (drop (call $proxy_get_property (i32.const 1040) (i32.const 16) (i32.const 8) (i32.const 12)))`;

/** A hand-written module with the stream callbacks and `requestHeaders` as on_request_headers' body. */
export function trivialModule(requestHeaders = ''): Promise<WebAssembly.Module> {
  return guest({ body: CALLBACKS(requestHeaders), alloc: SCRATCH, passThrough: false, data: { 1024: ':path', 1040: 'request\0url_path' } });
}

const REQ: [string, string][] = [
  [':method', 'GET'],
  [':path', '/api/users/42'],
  [':authority', 'svc.default'],
  [':scheme', 'http'],
  ['user-agent', 'bench'],
  ['x-request-id', '0f4e3a'],
];
const RESP: [string, string][] = [
  [':status', '200'],
  ['content-type', 'application/json'],
];

/** Best of `rounds` runs: ns per create → request_headers → response_headers → log → done → delete. */
export async function measure(requestHeaders: string, iterations: number, opts: { checkHeaders?: boolean; rounds?: number } = {}): Promise<number> {
  const host = new ProxyWasmHost({ module: await trivialModule(requestHeaders), checkHeaders: opts.checkHeaders });
  host.start();
  const once = () => {
    const s = host.stream();
    s.requestHeaders(REQ);
    s.responseHeaders(RESP);
    s.finish();
  };
  for (let i = 0; i < Math.min(iterations, 20_000); i++) once(); // warm up
  let best = Infinity;
  for (let r = 0; r < (opts.rounds ?? 5); r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) once();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / iterations);
  }
  if (host.vms[0]!.failed) throw new Error(host.vms[0]!.failure);
  return best;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 100_000);
  console.log(`${n} lifecycles (create → request_headers → response_headers → log → done → delete), best of 5`);
  console.log(`  trivial module:                         ${(await measure('', n)).toFixed(0)} ns`);
  console.log(`  trivial module, checkHeaders: false:    ${(await measure('', n, { checkHeaders: false })).toFixed(0)} ns`);
  console.log(`  + 2 host calls (header value, property): ${(await measure(TWO_CALLS, n)).toFixed(0)} ns`);
}
