// Text <-> bytes. Header names and values, shared-data keys and property paths are *byte strings*
// here: one JS char per byte (0x00–0xFF), the convention of Node's http module, so arbitrary bytes
// round-trip exactly. Log messages, local-response details and configuration text are UTF-8.
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export const utf8Encode = (s: string): Uint8Array => encoder.encode(s);
export const utf8Decode = (b: Uint8Array): string => decoder.decode(b);

const NON_BYTE = /[^\u0000-\u00ff]/;

/** Like Node's http module: header text must be byte strings. */
export function checkByteString(s: string, what: string): string {
  if (NON_BYTE.test(s)) {
    throw new TypeError(
      `${what} ${JSON.stringify(s)} has characters above U+00FF; header text is a byte string ` +
        `(pass UTF-8 as Buffer.from(text, 'utf8').toString('latin1'))`,
    );
  }
  return s;
}

function lowerSlow(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

/** Lower-cases ASCII letters only, as Envoy's LowerCaseString does (bytes ≥ 0x80 are left alone). */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return lowerSlow(s);
  }
  return s;
}

/** Bytes for a value given as text (UTF-8) or bytes. */
export const toBytes = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? utf8Encode(v) : v);
