// FNV-1a over raw bytes: keys are hashed straight from the header bytes, no string conversion.
export const FNV_OFFSET: u32 = 0x811c9dc5;

@inline export function fnvByte(h: u32, b: u32): u32 { return (h ^ b) * 0x01000193; }

export function fnv(h: u32, ptr: usize, len: usize): u32 {
  for (let i: usize = 0; i < len; i++) h = fnvByte(h, <u32>load<u8>(ptr + i));
  return h;
}
