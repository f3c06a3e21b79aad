// Regular expressions of traffic rules are RE2 (Istio and Envoy compile them with Google's RE2):
// checked with RE2 itself (re2-wasm, Google's RE2 built to WebAssembly), never with JavaScript's
// RegExp, whose syntax differs (look-arounds, back-references) and which backtracks.
import { createRequire } from 'node:module';

interface Re2Constructor {
  new (pattern: string, flags: string): { test(text: string): boolean };
}

const require = createRequire(import.meta.url);
const { RE2 } = require('re2-wasm') as { RE2: Re2Constructor };

/** Why `pattern` is not valid RE2, or undefined when it is. */
export function re2Problem(pattern: string): string | undefined {
  try {
    new RE2(pattern, 'u');
    return undefined;
  } catch (err) {
    // "Invalid regular expression: /x/u: missing ): x" → the part after the pattern.
    const message = (err as Error).message;
    const cut = message.lastIndexOf('/u: ');
    return cut < 0 ? message : message.slice(cut + 4);
  }
}

/** Whether RE2 matches the whole of `text` (Envoy's and Istio's semantics for safe_regex). */
export function re2FullMatch(pattern: string, text: string): boolean {
  return new RE2(`^(?:${pattern})$`, 'u').test(text);
}
