// Reads the filter's shared-data state the way assembly/state/packed.ts lays it out: one record per
// resource ("sergo:" + resource key), a header of (identity, offset, size) entries, one section per
// stateful rule, its identity the FNV-1a 64 hash of the rule's state key
// ("sergo:<Kind>Strategy:<id>#<signature>"). Tests name a rule's state by that key.

interface SharedView {
  get(key: string): { value: Uint8Array; cas: number } | undefined;
  keys(): string[];
}

/** FNV-1a, 64 bits, of the key's UTF-8 bytes (as assembly/state/packed.ts identityOf). */
export function identityOf(stateKey: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(stateKey)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}

export interface Section { recordKey: string; record: Uint8Array; offset: number; size: number }

/** Where the rule with this state key keeps its state, or undefined when no record has it. */
export function findSection(shared: SharedView, stateKey: string): Section | undefined {
  const id = identityOf(stateKey);
  for (const recordKey of shared.keys()) {
    if (!recordKey.startsWith('sergo:') || recordKey.includes('Strategy:')) continue;
    const record = shared.get(recordKey)!.value;
    if (record.byteLength < 8) continue;
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    const count = view.getUint32(0, true);
    for (let j = 0; j < count && 8 + (j + 1) * 16 <= record.byteLength; j++) {
      const e = 8 + j * 16;
      if (view.getBigUint64(e, true) === id) {
        return { recordKey, record, offset: view.getUint32(e + 8, true), size: view.getUint32(e + 12, true) };
      }
    }
  }
  return undefined;
}

/** The bytes of a rule's state (a copy), or undefined. */
export function ruleState(shared: SharedView, stateKey: string): Uint8Array | undefined {
  const s = findSection(shared, stateKey);
  return s ? s.record.slice(s.offset, s.offset + s.size) : undefined;
}

/** The key of the record that holds a rule's state, or undefined. */
export function recordKeyOf(shared: SharedView, stateKey: string): string | undefined {
  return findSection(shared, stateKey)?.recordKey;
}

/** Every rule section of every record (tests with one stateful rule find it without its key). */
export function allSections(shared: SharedView): Section[] {
  const out: Section[] = [];
  for (const recordKey of shared.keys()) {
    if (!recordKey.startsWith('sergo:') || recordKey.includes('Strategy:')) continue;
    const record = shared.get(recordKey)!.value;
    if (record.byteLength < 8) continue;
    const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
    const count = view.getUint32(0, true);
    for (let j = 0; j < count && 8 + (j + 1) * 16 <= record.byteLength; j++) {
      const e = 8 + j * 16;
      out.push({ recordKey, record, offset: view.getUint32(e + 8, true), size: view.getUint32(e + 12, true) });
    }
  }
  return out;
}
