// A file parsed by the `yaml` library: every document with its line counter, so that any node's
// position can be reported. The reference parse: syntax errors and warnings come from here.
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { Diagnostics, SourcePos } from '../diagnostics.ts';

export interface YamlDocument {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function positionAt(file: string, lines: LineCounter, offset: number): SourcePos {
  const { line, col } = lines.linePos(offset);
  return { file, line, col };
}

/** The documents of `text` that parsed without errors; problems go to `diagnostics` when given. */
export function parseYamlDocuments(file: string, text: string, diagnostics?: Diagnostics): Array<YamlDocument & { valid: boolean }> {
  const lines = new LineCounter();
  return parseAllDocuments(text, { lineCounter: lines, prettyErrors: false }).map((doc) => {
    if (diagnostics !== undefined) {
      const object = doc.errors.length > 0 ? partialObjectLabel(doc) : undefined;
      for (const err of doc.errors) diagnostics.error(positionAt(file, lines, err.pos[0]), object, undefined, `invalid YAML: ${err.message}`);
      for (const warn of doc.warnings) diagnostics.warning(positionAt(file, lines, warn.pos[0]), undefined, undefined, `YAML: ${warn.message}`);
    }
    return { file, doc, lines, valid: doc.errors.length === 0 };
  });
}

/** A document with content: not empty, not only a comment, not a lone `~`. */
export function hasContent(doc: Document.Parsed): boolean {
  const contents = doc.contents;
  return contents !== null && !(isScalar(contents) && contents.value === null);
}

/** `Kind/name` of a document that failed to parse, when the parser got that far (helps find it). */
function partialObjectLabel(doc: Document.Parsed): string | undefined {
  if (!isMap(doc.contents)) return undefined;
  const kind = doc.get('kind');
  const name = doc.getIn(['metadata', 'name']);
  return typeof kind === 'string' && typeof name === 'string' ? `${kind}/${name}` : undefined;
}
