// A minimal reader of a wasm binary's type, import, function and export sections: just enough to
// know the signature of every imported and exported function. WebAssembly.Module.imports() in
// Node 20 gives names and kinds but no types, while Envoy refuses a module whose import or export
// has the wrong signature, so checkModule() needs the types from the bytes.

export interface FuncSig {
  /** 'i' i32, 'I' i64, 'f' f32, 'F' f64, '?' anything else. */
  params: string;
  results: string;
}
export interface BinaryImport {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  sig?: FuncSig;
}
export interface BinaryExport {
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  sig?: FuncSig;
}
export interface BinaryInfo {
  imports: BinaryImport[];
  exports: BinaryExport[];
}

const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;
const VALTYPE: Record<number, string> = { 0x7f: 'i', 0x7e: 'I', 0x7d: 'f', 0x7c: 'F' };
const utf8 = new TextDecoder();

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  u8(): number {
    if (this.pos >= this.b.length) throw new RangeError('unexpected end of module');
    return this.b[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new RangeError('LEB128 too long');
    }
  }
  name(): string {
    const n = this.u32();
    if (this.pos + n > this.b.length) throw new RangeError('unexpected end of module');
    const s = utf8.decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  limits(): void {
    const flags = this.u8();
    this.u32();
    if (flags & 1) this.u32();
  }
}

function valtypes(r: Reader): string {
  const n = r.u32();
  let s = '';
  for (let i = 0; i < n; i++) s += VALTYPE[r.u8()] ?? '?';
  return s;
}

/** Parses the sections; returns undefined when the bytes use encodings this reader doesn't know. */
export function readBinaryInfo(bytes: Uint8Array): BinaryInfo | undefined {
  try {
    const r = new Reader(bytes);
    if (r.u8() !== 0 || r.u8() !== 0x61 || r.u8() !== 0x73 || r.u8() !== 0x6d) return undefined;
    r.pos = 8;
    const types: FuncSig[] = [];
    const funcTypes: number[] = []; // function index space → type index
    const imports: BinaryImport[] = [];
    const rawExports: { name: string; kind: number; index: number }[] = [];
    while (r.pos < bytes.length) {
      const id = r.u8();
      const size = r.u32();
      const end = r.pos + size;
      if (id === 1) {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          if (r.u8() !== 0x60) return undefined; // GC rec groups etc.: not needed for proxy-wasm
          const params = valtypes(r);
          types.push({ params, results: valtypes(r) });
        }
      } else if (id === 2) {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const module = r.name();
          const name = r.name();
          const kind = r.u8();
          const imp: BinaryImport = { module, name, kind: KINDS[kind] ?? 'tag' };
          if (kind === 0) {
            const t = r.u32();
            funcTypes.push(t);
            imp.sig = types[t];
          } else if (kind === 1) {
            r.u8();
            r.limits();
          } else if (kind === 2) {
            r.limits();
          } else if (kind === 3) {
            r.u8();
            r.u8();
          } else if (kind === 4) {
            r.u8();
            r.u32();
          } else return undefined;
          imports.push(imp);
        }
      } else if (id === 3) {
        const n = r.u32();
        for (let i = 0; i < n; i++) funcTypes.push(r.u32());
      } else if (id === 7) {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const name = r.name();
          const kind = r.u8();
          rawExports.push({ name, kind, index: r.u32() });
        }
      }
      r.pos = end;
    }
    const exports = rawExports.map((e): BinaryExport => {
      const ex: BinaryExport = { name: e.name, kind: KINDS[e.kind] ?? 'tag' };
      if (e.kind === 0) {
        const t = funcTypes[e.index];
        if (t !== undefined) ex.sig = types[t];
      }
      return ex;
    });
    return { imports, exports };
  } catch {
    return undefined;
  }
}
