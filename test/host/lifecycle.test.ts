// Callback order, local responses, continue_stream and set_effective_context as Envoy runs them.
import { describe, expect, test } from 'vitest';
import { encodePairs, ProxyWasmHost, Status, type HttpStream, type LocalResponse } from '../../src/host/index.ts';
import { guest, u32 } from './wat.ts';

/** Builds data segments for names and a `(call $say "name")` snippet for each. */
function names(list: string[], base = 1024) {
  const data: Record<number, string> = {};
  const say: Record<string, string> = {};
  let at = base;
  for (const n of list) {
    data[at] = n;
    say[n] = `(drop (call $proxy_log (i32.const 2) (i32.const ${at}) (i32.const ${n.length})))`;
    at += Math.ceil((n.length + 1) / 16) * 16;
  }
  return { data, say };
}

describe('callback order', () => {
  // Every callback logs its name; header/body callbacks continue.
  const { data, say } = names([
    'create_root', 'create', 'vm_start', 'configure', 'request_headers', 'request_body', 'request_trailers',
    'response_headers', 'response_body', 'response_trailers', 'log', 'done', 'delete',
  ]);
  const body = `
    (func (export "proxy_on_context_create") (param $id i32) (param $parent i32)
      (if (local.get $parent) (then ${say.create}) (else ${say.create_root})))
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32) ${say.vm_start} (i32.const 1))
    (func (export "proxy_on_configure") (param i32 i32) (result i32) ${say.configure} (i32.const 1))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) ${say.request_headers} (i32.const 0))
    (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) ${say.request_body} (i32.const 0))
    (func (export "proxy_on_request_trailers") (param i32 i32) (result i32) ${say.request_trailers} (i32.const 0))
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) ${say.response_headers} (i32.const 0))
    (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) ${say.response_body} (i32.const 0))
    (func (export "proxy_on_response_trailers") (param i32 i32) (result i32) ${say.response_trailers} (i32.const 0))
    (func (export "proxy_on_log") (param i32) ${say.log})
    (func (export "proxy_on_done") (param i32) (result i32) ${say.done} (i32.const 1))
    (func (export "proxy_on_delete") (param i32) ${say.delete})`;

  const start = async () => {
    const host = new ProxyWasmHost({ module: await guest({ body, data }) });
    expect(host.start()).toBe(true);
    const events = () => host.logs.map((l) => l.message);
    return { host, events };
  };

  test('start-up: on_context_create(root, 0) → on_vm_start → on_configure', async () => {
    const { events } = await start();
    expect(events()).toEqual(['create_root', 'vm_start', 'configure']);
  });

  test('a full stream: create → request → response → log → done → delete (each once)', async () => {
    const { host, events } = await start();
    const s = host.stream();
    expect(s.requestHeaders([[':path', '/']], false).action).toBe('continue');
    expect(s.requestBody('abc', false)).toEqual({ action: 'continue', body: new TextEncoder().encode('abc') });
    expect(s.requestTrailers([['x-t', '1']]).action).toBe('continue');
    expect(s.responseHeaders([[':status', '200']], false).action).toBe('continue');
    expect(s.responseBody('ok', false).action).toBe('continue');
    expect(s.responseTrailers([]).action).toBe('continue');
    s.finish();
    s.finish();
    s.log();
    expect(s.done()).toBe(true);
    expect(events().slice(3)).toEqual([
      'create', 'request_headers', 'request_body', 'request_trailers',
      'response_headers', 'response_body', 'response_trailers', 'log', 'done', 'delete',
    ]);
  });

  test('a stream that saw no header callbacks gets only create, log, done, delete', async () => {
    const { host, events } = await start();
    host.stream().finish();
    expect(events().slice(3)).toEqual(['create', 'log', 'done', 'delete']);
  });

  test('reset(): log, done, delete; later steps report the reset', async () => {
    const { host, events } = await start();
    const s = host.stream();
    s.requestHeaders([[':path', '/']], false);
    s.reset();
    expect(events().slice(3)).toEqual(['create', 'request_headers', 'log', 'done', 'delete']);
    expect(() => s.requestBody('x', true)).toThrow(/after on_delete/);
    expect(s.wasReset).toBe(true);
  });

  test('stream ids are unique per VM and differ from the root id', async () => {
    const host = new ProxyWasmHost({ module: await guest({ body, data }), vms: 2 });
    host.start();
    const ids0 = [host.stream(0).id, host.stream(0).id, host.stream(0).id];
    expect(new Set(ids0).size).toBe(3);
    expect(ids0).not.toContain(host.vms[0]!.rootContextId);
    expect(host.vms.map((v) => v.rootContextId)).toEqual([1, 2]);
  });
});

describe('send_local_response', () => {
  const { data, say } = names(['blocked by rule', 'nope', 'after_send', 'request_body', 'response_body', ':status', 'x-seen', 'yes']);
  const headers = encodePairs([['X-A', '1']]);
  data[3000] = headers as unknown as string; // raw bytes segment
  const at = (s: string) => Number(Object.entries(data).find(([, v]) => v === s)![0]);
  // on_request_headers replies 429 when x-deny is present, logs "after_send", returns Continue.
  // on_response_headers logs the :status it sees and adds x-seen: yes.
  const body = `
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) (i32.const 2900) (i32.const 6) (i32.const 8) (i32.const 12)))
        (then
          (drop (call $proxy_send_local_response (i32.const 429)
            (i32.const ${at('blocked by rule')}) (i32.const 15) (i32.const ${at('nope')}) (i32.const 4)
            (i32.const 3000) (i32.const ${headers.length}) (i32.const -1)))
          ${say.after_send}))
      (i32.const 0))
    (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) ${say.request_body} (i32.const 0))
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_get_header_map_value (i32.const 2) (i32.const ${at(':status')}) (i32.const 7) (i32.const 8) (i32.const 12)))
      (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 8)) (i32.load (i32.const 12))))
      (drop (call $proxy_add_header_map_value (i32.const 2) (i32.const ${at('x-seen')}) (i32.const 6) (i32.const ${at('yes')}) (i32.const 3)))
      (i32.const 0))
    (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) ${say.response_body} (i32.const 0))`;
  data[2900] = 'x-deny';

  const setup = async (localReplyThroughFilter = true) => {
    let s: HttpStream | undefined;
    const seenDuringCallback: (LocalResponse | undefined)[] = [];
    const host = new ProxyWasmHost({
      module: await guest({ body, data }),
      localReplyThroughFilter,
      onLog: (_vm, _level, msg) => {
        if (msg === 'after_send') seenDuringCallback.push(s!.localResponse);
      },
    });
    host.start();
    s = host.stream();
    const replies: LocalResponse[] = [];
    s.onLocalResponse = (r) => replies.push(r);
    return { host, s, replies, seenDuringCallback, events: () => host.logs.map((l) => l.message) };
  };

  test('takes effect when the callback returns, and its Continue is ignored', async () => {
    const { s, replies, seenDuringCallback } = await setup();
    const r = s.requestHeaders([[':path', '/'], ['x-deny', '1']], false);
    expect(seenDuringCallback).toEqual([undefined]); // not yet sent inside the callback
    expect(r.action).toBe('local-response');
    expect(replies).toHaveLength(1);
    expect(r.localResponse).toBe(replies[0]);
    expect(r.localResponse).toMatchObject({
      status: 429,
      bodyText: 'nope',
      details: 'blocked_by_rule', // Envoy replaces whitespace in details
      grpcStatus: -1,
      additionalHeaders: [['x-a', '1']],
    });
  });

  test('the reply passes through the filter’s own response callbacks (Envoy’s filter chain)', async () => {
    const { s, events } = await setup();
    const r = s.requestHeaders([['x-deny', '1']], false);
    expect(events()).toEqual(['after_send', '429', 'response_body']);
    expect(r.localResponse!.headers).toEqual([
      [':status', '429'],
      ['x-a', '1'],
      ['content-length', '4'],
      ['content-type', 'text/plain'],
      ['x-seen', 'yes'],
    ]);
  });

  test('a gRPC request: the reply is Envoy\'s trailers-only gRPC one, and reaches the filter as headers that end the stream', async () => {
    const { s, events } = await setup();
    const r = s.requestHeaders([[':path', '/pkg.Svc/M'], ['content-type', 'application/grpc'], ['x-deny', '1']], false);
    expect(events()).toEqual(['after_send', '200']);   // no response body callback
    expect(r.localResponse).toMatchObject({ grpc: true, status: 200, bodyText: '', grpcStatus: -1 });
    expect(r.localResponse!.headers).toEqual([
      [':status', '200'],
      ['x-a', '1'],
      ['content-type', 'application/grpc'],
      ['grpc-status', '14'],   // grpc_status -1: Envoy maps the HTTP 429 to UNAVAILABLE
      ['grpc-message', 'nope'],
      ['x-seen', 'yes'],
    ]);
    expect(s.responseCode()).toBe(200);   // the response.code property
  });

  test('later request callbacks are not run; the response is the local one', async () => {
    const { s, events } = await setup();
    s.requestHeaders([['x-deny', '1']], false);
    expect(s.requestBody('more', true).action).toBe('local-response');
    expect(s.responseHeaders([[':status', '200']]).action).toBe('local-response');
    expect(events()).not.toContain('request_body');
    expect(events().filter((e) => e === '429')).toHaveLength(1);
  });

  test('without localReplyThroughFilter the response callbacks do not see it', async () => {
    const { s, events } = await setup(false);
    const r = s.requestHeaders([['x-deny', '1']]);
    expect(events()).toEqual(['after_send']);
    expect(r.localResponse!.headers.some(([k]) => k === 'x-seen')).toBe(false);
  });

  test('no x-deny: the request continues', async () => {
    const { s, replies } = await setup();
    expect(s.requestHeaders([[':path', '/']]).action).toBe('continue');
    expect(replies).toHaveLength(0);
  });
});

describe('continue_stream and set_effective_context', () => {
  // Streams pause in on_request_headers and remember their id at [64]; on_tick makes that stream
  // effective, records the statuses at [68]/[72], continues it (or replies 503 when [80] is 1)
  // and logs "after".
  const body = `
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
      (drop (call $proxy_set_tick_period_milliseconds (i32.const 100))) (i32.const 1))
    (func (export "proxy_on_context_create") (param $id i32) (param $parent i32)
      (if (local.get $parent) (then (i32.store (i32.const 64) (local.get $id)))))
    (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
      (if (i32.load (i32.const 84)) (then (drop (call $proxy_continue_stream (i32.const 0)))))
      (i32.const 1))
    (func (export "proxy_on_tick") (param $root i32)
      (i32.store (i32.const 68) (call $proxy_set_effective_context (i32.load (i32.const 64))))
      (if (i32.load (i32.const 80))
        (then (i32.store (i32.const 72) (call $proxy_send_local_response (i32.const 503) (i32.const 0) (i32.const 0)
                 (i32.const 1024) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const -1))))
        (else (i32.store (i32.const 72) (call $proxy_continue_stream (i32.const 0)))))
      (drop (call $proxy_log (i32.const 2) (i32.const 1040) (i32.const 5))))`;
  const data = { 1024: 'busy', 1040: 'after' };

  const setup = async () => {
    let s: HttpStream | undefined;
    const atLog: { paused: boolean; resumes: number }[] = [];
    const host = new ProxyWasmHost({
      module: await guest({ body, data }),
      onLog: (_v, _l, m) => {
        if (m === 'after') atLog.push({ paused: s!.paused, resumes: s!.resumeCount });
      },
    });
    host.start();
    s = host.stream();
    let resumed = 0;
    s.onResume = () => resumed++;
    return { host, s, atLog, resumed: () => resumed, vm: host.vms[0]! };
  };

  test('from on_tick: set_effective_context + continue_stream resumes the paused stream after the tick', async () => {
    const { host, s, atLog, resumed, vm } = await setup();
    expect(s.requestHeaders([[':path', '/']]).action).toBe('pause');
    expect(s.paused).toBe(true);
    host.advance(99);
    expect(resumed()).toBe(0);
    host.advance(1);
    expect([u32(vm, 68), u32(vm, 72)]).toEqual([Status.OK, Status.OK]);
    expect(atLog).toEqual([{ paused: true, resumes: 0 }]); // deferred until on_tick returned
    expect(s.paused).toBe(false);
    expect(s.resumeCount).toBe(1);
    expect(resumed()).toBe(1);
    expect(s.spuriousResumes).toBe(0);
  });

  test('a second continue for a stream that is not paused is counted, not resumed', async () => {
    const { host, s, resumed } = await setup();
    s.requestHeaders([[':path', '/']]);
    host.advance(200);
    expect(s.resumeCount).toBe(1);
    expect(resumed()).toBe(1);
    expect(s.spuriousResumes).toBe(1);
    expect(host.spuriousResumes).toBe(1);
  });

  test('a local response from on_tick for a paused stream replaces the resume', async () => {
    const { host, s, vm } = await setup();
    new DataView((vm.exports.memory as WebAssembly.Memory).buffer).setUint32(80, 1, true);
    const replies: LocalResponse[] = [];
    s.onLocalResponse = (r) => replies.push(r);
    s.requestHeaders([[':path', '/']]);
    host.advance(100);
    expect(replies.map((r) => [r.status, r.bodyText])).toEqual([[503, 'busy']]);
    expect(s.paused).toBe(false);
    expect(s.resumeCount).toBe(0);
    expect(s.responseHeaders([[':status', '200']]).action).toBe('local-response');
  });

  test('unknown context ids are BAD_ARGUMENT; the effective context ends with the callback', async () => {
    const { s, vm } = await setup();
    s.requestHeaders([[':path', '/']]);
    expect(vm.invoke('call_proxy_set_effective_context', 9999)).toBe(Status.BAD_ARGUMENT);
    expect(vm.invoke('call_proxy_set_effective_context', s.id)).toBe(Status.OK);
    // a new callback starts on the root context again: this continue targets no stream
    expect(vm.invoke('call_proxy_continue_stream', 0)).toBe(Status.OK);
    expect(s.paused).toBe(true);
    expect(vm.spuriousResumes).toBe(1);
    s.finish();
    expect(vm.invoke('call_proxy_set_effective_context', s.id)).toBe(Status.BAD_ARGUMENT); // deleted
  });

  test('continue_stream inside the stream’s own callback undoes its pause', async () => {
    const { s, vm } = await setup();
    new DataView((vm.exports.memory as WebAssembly.Memory).buffer).setUint32(84, 1, true);
    expect(s.requestHeaders([[':path', '/']]).action).toBe('continue');
    expect(s.resumeCount).toBe(0);
    expect(s.spuriousResumes).toBe(0);
  });

  test('bad stream types are BAD_ARGUMENT; UPSTREAM is UNIMPLEMENTED', async () => {
    const { vm } = await setup();
    expect(vm.invoke('call_proxy_continue_stream', 4)).toBe(Status.BAD_ARGUMENT);
    expect(vm.invoke('call_proxy_continue_stream', 3)).toBe(Status.UNIMPLEMENTED);
    expect(vm.invoke('call_proxy_close_stream', 9)).toBe(Status.BAD_ARGUMENT);
  });
});

describe('proxy_close_stream', () => {
  test('resets the stream when the callback returns: log, done and delete run', async () => {
    const body = `
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $proxy_close_stream (i32.const 0))) (i32.const 0))
      (func (export "proxy_on_log") (param i32) (drop (call $proxy_log (i32.const 2) (i32.const 1024) (i32.const 3))))
      (func (export "proxy_on_delete") (param i32) (drop (call $proxy_log (i32.const 2) (i32.const 1040) (i32.const 6))))`;
    const host = new ProxyWasmHost({ module: await guest({ body, data: { 1024: 'log', 1040: 'delete' } }) });
    host.start();
    const s = host.stream();
    expect(s.requestHeaders([[':path', '/']]).action).toBe('reset');
    expect(s.closed).toBe(true);
    expect(host.logs.map((l) => l.message)).toEqual(['log', 'delete']);
  });
});

describe('Envoy details around pauses and replies', () => {
  test('body data that arrives while the filter is paused at headers reaches it only after the resume', async () => {
    // pause at request headers; on_request_body records (size, eos) at [64]/[68] and counts calls
    // at [72]; on_tick resumes the stream whose id is at [76].
    const body = `
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
        (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1))
      (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
        (i32.store (i32.const 76) (local.get $id)) (i32.const 1))
      (func (export "proxy_on_request_body") (param $id i32) (param $size i32) (param $eos i32) (result i32)
        (i32.store (i32.const 64) (local.get $size))
        (i32.store (i32.const 68) (local.get $eos))
        (i32.store (i32.const 72) (i32.add (i32.load (i32.const 72)) (i32.const 1)))
        (i32.const 0))
      (func (export "proxy_on_tick") (param i32)
        (drop (call $proxy_set_effective_context (i32.load (i32.const 76))))
        (drop (call $proxy_continue_stream (i32.const 0))))`;
    const host = new ProxyWasmHost({ module: await guest({ body }) });
    host.start();
    const vm = host.vms[0]!;
    const s = host.stream();
    expect(s.requestHeaders([[':path', '/']], false).action).toBe('pause');
    expect(s.requestBody('abc', false).action).toBe('pause');
    expect(s.requestBody('de', true).action).toBe('pause');
    expect(u32(vm, 72)).toBe(0); // not called during the pause
    let bodyAtResume: Uint8Array | null = null;
    s.onResume = () => (bodyAtResume = s.requestBodyBuffer);
    host.advance(10);
    expect([u32(vm, 64), u32(vm, 68), u32(vm, 72)]).toEqual([5, 1, 1]);
    expect(s.resumeCount).toBe(1);
    expect(s.paused).toBe(false);
    expect(bodyAtResume).toBeNull(); // the body callback continued, so Envoy forwarded it
  });

  test('a local reply from on_response_headers replaces the response without re-entering the filter', async () => {
    const body = `
      (global $calls (export "calls") (mut i32) (i32.const 0))
      (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
        (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
        (drop (call $proxy_send_local_response (i32.const 403) (i32.const 0) (i32.const 0)
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1)))
        (i32.const 0))`;
    const host = new ProxyWasmHost({ module: await guest({ body }) });
    host.start();
    const s = host.stream();
    s.requestHeaders([[':path', '/']]);
    const r = s.responseHeaders([[':status', '200'], ['x-up', '1']], false);
    expect(r.action).toBe('local-response');
    expect(r.localResponse!.headers).toEqual([[':status', '403']]);
    expect(s.responseBody('upstream body', true).action).toBe('local-response');
    expect((host.vms[0]!.exports.calls as WebAssembly.Global).value).toBe(1);
  });

  test('a local reply or close from on_log is ignored (the stream is complete)', async () => {
    const body = `
      (func (export "proxy_on_log") (param i32)
        (drop (call $proxy_send_local_response (i32.const 500) (i32.const 0) (i32.const 0)
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1)))
        (drop (call $proxy_close_stream (i32.const 0))))`;
    const host = new ProxyWasmHost({ module: await guest({ body }) });
    host.start();
    const s = host.stream();
    s.requestHeaders([[':path', '/']]);
    s.responseHeaders([[':status', '200']]);
    s.finish();
    expect(s.localResponse).toBeUndefined();
    expect(s.closed).toBe(false);
  });

  test('an exception in the embedder’s onLog does not fail the VM', async () => {
    const errors: unknown[] = [];
    const body = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_log (i32.const 2) (i32.const 1024) (i32.const 2))) (i32.const 0))`;
    const host = new ProxyWasmHost({
      module: await guest({ body, data: { 1024: 'hi' } }),
      onLog: () => {
        throw new Error('embedder bug');
      },
    });
    host.start();
    const handler = (e: unknown) => errors.push(e);
    process.on('uncaughtException', handler);
    try {
      expect(host.stream().requestHeaders([]).action).toBe('continue');
      await new Promise((r) => setTimeout(r, 0));
    } finally {
      process.off('uncaughtException', handler);
    }
    expect(host.vms[0]!.failed).toBe(false);
    expect(errors).toHaveLength(1); // surfaced outside the guest call
  });
});
