// Strings this module knows to be ASCII — ids and resources are checked printable ASCII as they are
// decoded (config/config.ts), and its own literals — written a byte per UTF-16 unit, with no UTF-8
// measuring or encoding.

/** Writes ASCII `s` at `to`; returns how many bytes: s.length. */
export function writeAscii(s: string, to: usize): usize {
  const n = <usize>s.length;
  const from = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) store<u8>(to + i, load<u8>(from + (i << 1)));
  return n;
}
