// Local replies for blocked requests. Everything a reply needs — body bytes, serialized header
// pairs, details string — is built once at configure time, so blocking costs one host call.
import { Bytes, sendLocalResponse } from "../abi";

/** Serializes header pairs as proxy-wasm expects: u32 count, (u32 name len, u32 value len)…, then
 *  each name and value followed by a NUL; little-endian. */
function serializePairs(names: string[], values: string[]): ArrayBuffer {
  const n = names.length;
  const encodedNames = new Array<ArrayBuffer>(n);
  const encodedValues = new Array<ArrayBuffer>(n);
  let size = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    encodedNames[i] = String.UTF8.encode(names[i]);
    encodedValues[i] = String.UTF8.encode(values[i]);
    size += encodedNames[i].byteLength + encodedValues[i].byteLength + 2;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>n);
  let p = base + 4 + <usize>n * 8;
  for (let i = 0; i < n; i++) {
    const name = encodedNames[i];
    const value = encodedValues[i];
    store<u32>(base + 4 + <usize>i * 8, <u32>name.byteLength);
    store<u32>(base + 8 + <usize>i * 8, <u32>value.byteLength);
    memory.copy(p, changetype<usize>(name), <usize>name.byteLength);
    p += <usize>name.byteLength;
    store<u8>(p++, 0);
    memory.copy(p, changetype<usize>(value), <usize>value.byteLength);
    p += <usize>value.byteLength;
    store<u8>(p++, 0);
  }
  return out;
}

export class Fallback {
  readonly body: ArrayBuffer;
  readonly headers: ArrayBuffer;
  readonly details: Bytes;

  constructor(public status: u32, body: string, names: string[], values: string[], details: string = "sergo_blocked") {
    this.body = String.UTF8.encode(body);
    this.headers = serializePairs(names, values);
    this.details = new Bytes(details);
  }

  /** The reply when a rule has no fallback: 429 naming the blocking strategy. */
  static blocked(strategyKind: string, ruleId: string): Fallback {
    return new Fallback(429, "Blocked by sergo: " + strategyKind + " (" + ruleId + ")\n",
                        ["content-type"], ["text/plain; charset=utf-8"]);
  }

  send(): void {
    sendLocalResponse(this.status, this.details, changetype<usize>(this.body), <usize>this.body.byteLength,
                      changetype<usize>(this.headers), <usize>this.headers.byteLength);
  }
}
