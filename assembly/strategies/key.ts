// A strategy's shared-data key, `sergo:<Kind>Strategy:<rule id>#<signature>` as (ASCII) bytes
// (../state/packed.ts), written part by part into one scratch buffer and copied out once. Built by
// string concatenation it was a dozen garbage strings per rule (each number's text, each partial
// sum) made and swept at every configure, for every rule.
import { writeAscii } from "../abi";

export class KeyWriter {
  private scratch: ArrayBuffer = new ArrayBuffer(256);
  private length: i32 = 0;

  /** Starts a new key. */
  start(): KeyWriter { this.length = 0; return this; }

  /** Appends `s`, ASCII (abi/memory.ts writeAscii). */
  text(s: string): KeyWriter {
    this.reserve(s.length);
    this.length += <i32>writeAscii(changetype<usize>(s), <usize>s.length, changetype<usize>(this.scratch) + <usize>this.length);
    return this;
  }

  /** `v` in decimal, as i64.toString() writes it. */
  int(v: i64): KeyWriter {
    this.reserve(21);
    const at = changetype<usize>(this.scratch);
    if (v < 0) { store<u8>(at + <usize>this.length, 0x2d); this.length++; }
    // From the lowest digit into the end of the reserved space, then moved into place.
    let u: u64 = v < 0 ? <u64>(-(v + 1)) + 1 : <u64>v;
    let digits: i32 = 0;
    do {
      store<u8>(at + <usize>(this.length + 19 - digits), <u8>(0x30 + <i32>(u % 10)));
      u /= 10;
      digits++;
    } while (u != 0);
    memory.copy(at + <usize>this.length, at + <usize>(this.length + 20 - digits), <usize>digits);
    this.length += digits;
    return this;
  }

  /** The key written since start(). */
  take(): ArrayBuffer {
    const key = new ArrayBuffer(this.length);
    memory.copy(changetype<usize>(key), changetype<usize>(this.scratch), <usize>this.length);
    return key;
  }

  private reserve(n: i32): void {
    const need = this.length + n;
    if (need <= this.scratch.byteLength) return;
    const larger = new ArrayBuffer(max(need, this.scratch.byteLength << 1));
    memory.copy(changetype<usize>(larger), changetype<usize>(this.scratch), <usize>this.length);
    this.scratch = larger;
  }
}

/** The one writer (configure decodes one rule at a time). */
export const keyWriter = new KeyWriter();
