// A read-only view of one value of a document together with its dotted field path and its position,
// so that validators can report `file:line:col … field` without carrying positions around by hand.
// Values come from the fast parse; positions are found on demand, by walking the same path in the
// `yaml` library's view of the document (yaml-cursor.ts): most rules never need one.
// Absent fields are cursors too: they point at their parent's key, where the field should be added.
import type { SourcePos } from '../diagnostics.ts';
import type { SourceDocument } from './source.ts';
import { didYouMean } from './closest.ts';
import { YamlCursor } from './yaml-cursor.ts';

/** Keys that JavaScript objects order first (array indices): their source order is the `yaml` view's. */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/** How a cursor is reached from its parent: a key, a list index, or the same node as a new root. */
type Step = string | number | typeof AS_ROOT;
const AS_ROOT = Symbol('as root');

export class Cursor {
  private twin: YamlCursor | undefined;
  private dotted: string | undefined;

  private constructor(
    readonly source: SourceDocument,
    /** The value, or undefined when the field is absent. */
    private readonly data: unknown,
    /** Where this cursor is, for its path and its `yaml` twin: undefined for the document root. */
    private readonly parent: Cursor | undefined,
    private readonly step: Step,
  ) {}

  static root(source: SourceDocument): Cursor {
    return new Cursor(source, source.value, undefined, AS_ROOT);
  }

  /** The same node seen as an object of its own (an item of a `kind: List`): paths restart. */
  asRoot(): Cursor {
    return new Cursor(this.source, this.data, this, AS_ROOT);
  }

  /**
   * Dotted path from the object's root, e.g. `spec.targets[0].targetResourceName`. Built when first
   * read: most cursors are never named in a message.
   */
  get path(): string {
    return (this.dotted ??= pathOf(this.parent, this.step));
  }

  /** False for an absent field and for an explicit null (`field:` with no value). */
  get present(): boolean {
    return this.data !== undefined && this.data !== null;
  }

  /**
   * Where messages about this field point: a scalar's value, else the field's key (a block mapping or
   * list starts on the next line, which would point at its first child instead of the field itself).
   * Found when first read.
   */
  get pos(): SourcePos {
    return lazyPos(this, undefined);
  }

  get isMap(): boolean {
    return typeof this.data === 'object' && this.data !== null && !Array.isArray(this.data);
  }

  get isSeq(): boolean {
    return Array.isArray(this.data);
  }

  get isScalar(): boolean {
    return this.data === null || (this.data !== undefined && typeof this.data !== 'object');
  }

  /** The value as plain data (what a pass-through emits unchanged), undefined when absent. */
  get json(): unknown {
    return this.data;
  }

  /** The scalar's value (string, number, boolean, null), undefined for collections and absence. */
  get value(): unknown {
    return this.isScalar ? this.data : undefined;
  }

  /** The scalar as written in the file (for plain scalars), e.g. `012` rather than 12. */
  get sourceText(): string | undefined {
    return this.isScalar ? this.yaml.sourceText : undefined;
  }

  /** The child `key` of a mapping (absent if this is not a mapping or has no such key). */
  get(key: string): Cursor {
    const map = this.isMap ? (this.data as Record<string, unknown>) : undefined;
    const value = map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
    return new Cursor(this.source, value, this, key);
  }

  /** Keys of a mapping in source order, without positions (see keys()). */
  keyNames(): string[] {
    if (!this.isMap) return [];
    const names = Object.keys(this.data as object);
    return hasArrayIndex(names) ? this.yaml.keys().map((k) => k.key) : names;
  }

  /** For an absent field: the key of its mapping that is a typo or two from its name (`treshold` for `threshold`). */
  nearMiss(): string | undefined {
    if (this.present || this.parent === undefined || typeof this.step !== 'string' || !this.parent.isMap) return undefined;
    const name = this.step;
    const written = this.parent.keyNames().filter((k) => k !== name);
    return written.find((k) => didYouMean(k, [name]) !== '');
  }

  /** Where the key `key` of this mapping is. */
  keyPos(key: string): SourcePos {
    return lazyPos(this, key);
  }

  /** Keys of a mapping in source order, each with the position of the key itself. */
  keys(): Array<{ key: string; pos: SourcePos }> {
    if (!this.isMap) return [];
    const names = Object.keys(this.data as object);
    if (hasArrayIndex(names)) return this.yaml.keys();
    return names.map((key) => ({ key, pos: lazyPos(this, key) }));
  }

  /** Items of a list (empty if this is not a list). */
  items(): Cursor[] {
    if (!Array.isArray(this.data)) return [];
    return this.data.map((item: unknown, i) => new Cursor(this.source, item, this, i));
  }

  /** What the value is, for messages such as "must be a string, not a list". */
  describe(): string {
    if (!this.present) return 'empty';
    if (this.isMap) return 'a mapping';
    if (this.isSeq) return 'a list';
    const v = this.value;
    if (typeof v === 'string') return 'a string';
    if (typeof v === 'number' || typeof v === 'bigint') return 'a number';
    if (typeof v === 'boolean') return 'a boolean';
    return 'an unsupported value';
  }

  /** This cursor in the `yaml` library's view of the document (walked there on first use). */
  get yaml(): YamlCursor {
    return (this.twin ??= this.locate());
  }

  private locate(): YamlCursor {
    const parent = this.parent;
    if (parent === undefined) return YamlCursor.root(this.source.yaml());
    if (this.step === AS_ROOT) return parent.yaml.asRoot();
    if (typeof this.step === 'number') return parent.yaml.items()[this.step]!;
    return parent.yaml.get(this.step);
  }
}

function hasArrayIndex(names: readonly string[]): boolean {
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39 && ARRAY_INDEX.test(name)) return true;
  }
  return false;
}

function pathOf(parent: Cursor | undefined, step: Step): string {
  if (parent === undefined || step === AS_ROOT) return '';
  if (typeof step === 'number') return `${parent.path}[${step}]`;
  return parent.path === '' ? step : `${parent.path}.${step}`;
}

/** Where a lazy position finds itself: the cursor, or the key of the cursor's mapping; and, once found, where. */
const CURSOR = Symbol('cursor');
const KEY = Symbol('key');
const FOUND = Symbol('found');
interface LazyPos extends SourcePos {
  [CURSOR]: Cursor;
  [KEY]: string | undefined;
  [FOUND]?: SourcePos;
}

function located(p: LazyPos): SourcePos {
  return (p[FOUND] ??= p[KEY] === undefined ? p[CURSOR].yaml.pos : p[CURSOR].yaml.get(p[KEY]).keyPos);
}

/** The accessors every lazy position shares (no closures per position). */
const LINE: PropertyDescriptor = { enumerable: true, configurable: true, get(this: LazyPos) { return located(this).line; } };
const COL: PropertyDescriptor = { enumerable: true, configurable: true, get(this: LazyPos) { return located(this).col; } };

/**
 * A position looked up when first read: of `cursor`, or of the key `key` of its mapping. Its line and
 * column are enumerable accessors and its state symbols, so it copies (spread, structuredClone, JSON)
 * as `{ file, line, col }`: the IR stays plain data. (The accessors are defined with shared getters:
 * an object literal with getters makes two closures per position, and is about three times slower to
 * build; a 10,000-rule file makes ~40,000 positions.)
 */
function lazyPos(cursor: Cursor, key: string | undefined): SourcePos {
  const pos = { file: cursor.source.file } as LazyPos;
  pos[CURSOR] = cursor;
  pos[KEY] = key;
  Object.defineProperty(pos, 'line', LINE);
  Object.defineProperty(pos, 'col', COL);
  return pos;
}
