// The `yaml` library's view of one node and where it is: how a Cursor (cursor.ts) finds the line and
// column of a field, or a scalar as written. Walked only when a position is asked for.
// Absent fields point at their parent's key, where the field should be added.
import { isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { SourcePos } from '../diagnostics.ts';
import { positionAt, type YamlDocument } from './yaml-document.ts';

export class YamlCursor {
  private constructor(
    readonly source: YamlDocument,
    /** The node (aliases resolved), or undefined when the field is absent. */
    readonly node: Node | undefined,
    /** Where the node's key is (the node itself if it is a list item or the root). */
    readonly keyPos: SourcePos,
  ) {}

  static root(source: YamlDocument): YamlCursor {
    const node = resolve(source, source.doc.contents ?? undefined);
    const start = node?.range?.[0] ?? 0;
    return new YamlCursor(source, node, positionAt(source.file, source.lines, start));
  }

  asRoot(): YamlCursor {
    return new YamlCursor(this.source, this.node, this.pos);
  }

  /**
   * Where messages about this field point: a scalar's value, else the field's key (a block mapping or
   * list starts on the next line, which would point at its first child instead of the field itself).
   */
  get pos(): SourcePos {
    const scalar = isScalar(this.node) && this.node.value !== null;
    const start = scalar ? this.node.range?.[0] : undefined;
    return start === undefined ? this.keyPos : positionAt(this.source.file, this.source.lines, start);
  }

  /** The scalar as written in the file (for plain scalars), e.g. `012` rather than 12. */
  get sourceText(): string | undefined {
    if (!isScalar(this.node)) return undefined;
    const source = (this.node as { source?: unknown }).source;
    return typeof source === 'string' && source !== '' ? source : undefined;
  }

  /** The child `key` of a mapping (absent if this is not a mapping or has no such key). */
  get(key: string): YamlCursor {
    if (isMap(this.node)) {
      for (const pair of this.node.items) {
        if (keyText(pair.key) === key) {
          const keyStart = (pair.key as Node | null)?.range?.[0];
          const keyPos = keyStart === undefined ? this.pos : positionAt(this.source.file, this.source.lines, keyStart);
          return new YamlCursor(this.source, resolve(this.source, pair.value as Node | null), keyPos);
        }
      }
    }
    return new YamlCursor(this.source, undefined, this.keyPos);
  }

  /** Keys of a mapping in source order, each with the position of the key itself. */
  keys(): Array<{ key: string; pos: SourcePos }> {
    if (!isMap(this.node)) return [];
    return this.node.items.map((pair) => {
      const start = (pair.key as Node | null)?.range?.[0];
      return {
        key: keyText(pair.key) ?? String(pair.key),
        pos: start === undefined ? this.pos : positionAt(this.source.file, this.source.lines, start),
      };
    });
  }

  /** Items of a list (empty if this is not a list). */
  items(): YamlCursor[] {
    if (!isSeq(this.node)) return [];
    return this.node.items.map((item) => {
      const node = resolve(this.source, item as Node | null);
      const start = node?.range?.[0];
      return new YamlCursor(this.source, node, start === undefined ? this.pos : positionAt(this.source.file, this.source.lines, start));
    });
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? undefined : String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function resolve(source: YamlDocument, node: Node | null | undefined): Node | undefined {
  if (node === null || node === undefined) return undefined;
  if (isAlias(node)) return (node.resolve(source.doc) as Node | undefined) ?? undefined;
  return node;
}
