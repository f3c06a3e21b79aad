// Header maps as proxy-wasm passes them between host and module.

/** Serializes header pairs as proxy-wasm expects: u32 count, (u32 name len, u32 value len)…, then
 *  each name and value followed by a NUL; little-endian. */
export function serializePairs(names: string[], values: string[]): ArrayBuffer {
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

