// A file parsed by the `yaml` library: every document with its line counter, so that any node's
// position can be reported. The reference parse: syntax errors and warnings come from here.
import { isCollection, isMap, isScalar, LineCounter, parseAllDocuments, visit, type Document, type YAMLError } from 'yaml';
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
      for (const err of doc.errors) reportError(diagnostics, file, lines, doc, err, object);
      for (const warn of doc.warnings) diagnostics.warning(positionAt(file, lines, warn.pos[0]), undefined, undefined, `YAML: ${warn.message}`);
    }
    return { file, doc, lines, valid: doc.errors.length === 0 };
  });
}

/**
 * An unclosed quote or flow collection is noticed where the parser gives up (often the end of the
 * file, or the next line): it is reported where it opens, which is where it must be fixed.
 */
function reportError(diagnostics: Diagnostics, file: string, lines: LineCounter, doc: Document.Parsed, err: YAMLError, object: string | undefined): void {
  const noticed = err.pos[0];
  const opened = err.code === 'MISSING_CHAR' || err.code === 'BAD_INDENT' ? openedAt(doc, noticed) : undefined;
  if (opened === undefined) {
    diagnostics.error(positionAt(file, lines, noticed), object, undefined, `invalid YAML: ${err.message}`);
    return;
  }
  const at = positionAt(file, lines, noticed);
  diagnostics.error(positionAt(file, lines, opened), object, undefined, `invalid YAML: ${err.message} (the parser gave up at ${at.line}:${at.col})`);
}

/** Where the innermost quoted scalar or flow collection that is still open at `offset` starts. */
function openedAt(doc: Document.Parsed, offset: number): number | undefined {
  let start: number | undefined;
  visit(doc, (_key, node) => {
    const open = (isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')) || (isCollection(node) && node.flow === true);
    const range = (node as { range?: [number, number, number] }).range;
    if (open && range !== undefined && range[0] < offset && offset <= range[1] && (start === undefined || range[0] > start)) start = range[0];
  });
  return start;
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
