// Parses one file (YAML, possibly multi-document; JSON is YAML) and keeps the line counter so every
// node's position can be reported later.
import { isMap, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { Diagnostics, SourcePos } from '../diagnostics.ts';

export interface SourceDocument {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function positionAt(file: string, lines: LineCounter, offset: number): SourcePos {
  const { line, col } = lines.linePos(offset);
  return { file, line, col };
}

/** Parses `text`; syntax errors are reported and their documents dropped (they cannot be trusted). */
export function parseSource(file: string, text: string, diagnostics: Diagnostics): SourceDocument[] {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const documents: SourceDocument[] = [];
  parsed.forEach((doc, index) => {
    const object = doc.errors.length > 0 ? partialObjectLabel(doc) : undefined;
    for (const err of doc.errors) {
      diagnostics.error(positionAt(file, lines, err.pos[0]), object, undefined, `invalid YAML: ${err.message}`);
    }
    for (const warn of doc.warnings) {
      diagnostics.warning(positionAt(file, lines, warn.pos[0]), undefined, undefined, `YAML: ${warn.message}`);
    }
    if (doc.errors.length === 0) documents.push({ file, index, doc, lines });
  });
  return documents;
}

/** `Kind/name` of a document that failed to parse, when the parser got that far (helps find it). */
function partialObjectLabel(doc: Document.Parsed): string | undefined {
  if (!isMap(doc.contents)) return undefined;
  const kind = doc.get('kind');
  const name = doc.getIn(['metadata', 'name']);
  return typeof kind === 'string' && typeof name === 'string' ? `${kind}/${name}` : undefined;
}
