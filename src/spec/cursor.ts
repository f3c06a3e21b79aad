// A read-only view of one YAML node together with its dotted field path and its position, so that
// validators can report `file:line:col … field` without carrying positions around by hand.
// Absent fields are cursors too: they point at their parent's key, where the field should be added.
import { isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { SourcePos } from '../diagnostics.ts';
import { positionAt, type SourceDocument } from './source.ts';

export class Cursor {
  private constructor(
    readonly source: SourceDocument,
    /** The node (aliases resolved), or undefined when the field is absent. */
    readonly node: Node | undefined,
    /** Dotted path from the document root, e.g. `spec.targets[0].targetResourceName`. */
    readonly path: string,
    /** Where the node's key is (the node itself if it is a list item or the root). */
    readonly keyPos: SourcePos,
  ) {}

  static root(source: SourceDocument): Cursor {
    const node = resolve(source, source.doc.contents ?? undefined);
    const start = node?.range?.[0] ?? 0;
    return new Cursor(source, node, '', positionAt(source.file, source.lines, start));
  }

  /** The same node seen as an object of its own (an item of a `kind: List`): paths restart. */
  asRoot(): Cursor {
    return new Cursor(this.source, this.node, '', this.pos);
  }

  /** False for an absent field and for an explicit null (`field:` with no value). */
  get present(): boolean {
    return this.node !== undefined && !(isScalar(this.node) && this.node.value === null);
  }

  /**
   * Where messages about this field point: a scalar's value, else the field's key (a block mapping or
   * list starts on the next line, which would point at its first child instead of the field itself).
   */
  get pos(): SourcePos {
    const start = this.present && isScalar(this.node) ? this.node.range?.[0] : undefined;
    return start === undefined ? this.keyPos : positionAt(this.source.file, this.source.lines, start);
  }

  get isMap(): boolean {
    return isMap(this.node);
  }

  get isSeq(): boolean {
    return isSeq(this.node);
  }

  get isScalar(): boolean {
    return isScalar(this.node);
  }

  /** The scalar's value (string, number, boolean, null), undefined for collections and absence. */
  get value(): unknown {
    return isScalar(this.node) ? this.node.value : undefined;
  }

  /** The scalar as written in the file (for plain scalars), e.g. `012` rather than 12. */
  get sourceText(): string | undefined {
    if (!isScalar(this.node)) return undefined;
    const source = (this.node as { source?: unknown }).source;
    return typeof source === 'string' && source !== '' ? source : undefined;
  }

  /** The child `key` of a mapping (absent if this is not a mapping or has no such key). */
  get(key: string): Cursor {
    const path = this.path === '' ? key : `${this.path}.${key}`;
    if (isMap(this.node)) {
      for (const pair of this.node.items) {
        if (keyText(pair.key) === key) {
          const keyNode = pair.key as Node | null;
          const keyStart = keyNode?.range?.[0];
          const keyPos =
            keyStart === undefined ? this.pos : positionAt(this.source.file, this.source.lines, keyStart);
          return new Cursor(this.source, resolve(this.source, pair.value as Node | null), path, keyPos);
        }
      }
    }
    return new Cursor(this.source, undefined, path, this.keyPos);
  }

  /** Keys of a mapping in source order, each with the position of the key itself. */
  keys(): Array<{ key: string; pos: SourcePos }> {
    if (!isMap(this.node)) return [];
    return this.node.items.map((pair) => {
      const keyNode = pair.key as Node | null;
      const start = keyNode?.range?.[0];
      return {
        key: keyText(pair.key) ?? String(pair.key),
        pos: start === undefined ? this.pos : positionAt(this.source.file, this.source.lines, start),
      };
    });
  }

  /** Items of a list (empty if this is not a list). */
  items(): Cursor[] {
    if (!isSeq(this.node)) return [];
    return this.node.items.map((item, i) => {
      const node = resolve(this.source, item as Node | null);
      const start = node?.range?.[0];
      const pos = start === undefined ? this.pos : positionAt(this.source.file, this.source.lines, start);
      return new Cursor(this.source, node, `${this.path}[${i}]`, pos);
    });
  }

  /** What the value is, for messages such as "must be a string, not a list". */
  describe(): string {
    if (!this.present) return 'empty';
    if (isMap(this.node)) return 'a mapping';
    if (isSeq(this.node)) return 'a list';
    const v = this.value;
    if (typeof v === 'string') return 'a string';
    if (typeof v === 'number' || typeof v === 'bigint') return 'a number';
    if (typeof v === 'boolean') return 'a boolean';
    return 'an unsupported value';
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? undefined : String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function resolve(source: SourceDocument, node: Node | null | undefined): Node | undefined {
  if (node === null || node === undefined) return undefined;
  if (isAlias(node)) return (node.resolve(source.doc) as Node | undefined) ?? undefined;
  return node;
}
