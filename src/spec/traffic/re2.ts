// Regular expressions of traffic rules are RE2 (Istio and Envoy compile them with Google's RE2):
// checked with RE2 itself (re2-wasm, Google's RE2 built to WebAssembly), never with JavaScript's
// RegExp, whose syntax differs (look-arounds, back-references) and which backtracks.
import { createRequire } from 'node:module';

interface Re2Constructor {
  new (pattern: string, flags: string): { test(text: string): boolean };
}

const require = createRequire(import.meta.url);
let loaded: Re2Constructor | undefined;

/** Loaded on first use (~20 ms): inputs without traffic regexes do not pay for it. */
function re2(): Re2Constructor {
  return (loaded ??= (require('re2-wasm') as { RE2: Re2Constructor }).RE2);
}

/** Why `pattern` is not valid RE2, or undefined when it is. */
export function re2Problem(pattern: string): string | undefined {
  try {
    new (re2())(pattern, 'u');
    return undefined;
  } catch (err) {
    // "Invalid regular expression: /x/u: missing ): x" → the part after the pattern.
    const message = (err as Error).message;
    const cut = message.lastIndexOf('/u: ');
    return cut < 0 ? message : message.slice(cut + 4);
  }
}
