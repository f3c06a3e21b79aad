// Parses one file (YAML, possibly multi-document; JSON is YAML) into documents of plain values, each
// able to give the `yaml` library's view of itself for positions. Large files take the fast path
// (fast-yaml.ts) and are parsed by the `yaml` library again only if a position is asked for (an
// error or warning); files the fast path leaves alone are parsed by the `yaml` library at once.
import type { Diagnostics } from '../diagnostics.ts';
import { fastParse } from './fast-yaml.ts';
import { hasContent, parseYamlDocuments, type YamlDocument } from './yaml-document.ts';

export interface SourceDocument {
  file: string;
  /** The document as plain values (objects, arrays, strings, numbers, booleans, null). */
  value: unknown;
  /** The same document as the `yaml` library reads it, for positions (parsed on first use). */
  yaml(): YamlDocument;
  /** Invalid YAML (reported): `value` is what the parser got, for the name of the object it broke. */
  broken?: true;
}

/** Parses `text`; syntax errors are reported and their documents marked broken (they cannot be trusted). */
export function parseSource(file: string, text: string, diagnostics: Diagnostics): SourceDocument[] {
  const fast = fastParse(text);
  if (fast === undefined) return slowParse(file, text, diagnostics);
  const twins = new YamlTwins(file, text);
  const documents: SourceDocument[] = [];
  for (const value of fast) if (value !== null && value !== undefined) documents.push(new FastDocument(file, value, twins, documents.length));
  return documents;
}

/** The `yaml` library's documents of a file read by the fast path, parsed when first asked for. */
class YamlTwins {
  private documents: YamlDocument[] | undefined;

  constructor(private readonly file: string, private readonly text: string) {}

  /** The documents with content, in order, are the same in both parsers: the k-th is the k-th. */
  get(k: number): YamlDocument {
    this.documents ??= parseYamlDocuments(this.file, this.text).filter((d) => hasContent(d.doc));
    const document = this.documents[k];
    if (document === undefined) throw new Error(`${this.file}: js-yaml and the yaml library disagree on its documents`);
    return document;
  }
}

class FastDocument implements SourceDocument {
  constructor(readonly file: string, readonly value: unknown, private readonly twins: YamlTwins, private readonly k: number) {}

  yaml(): YamlDocument {
    return this.twins.get(this.k);
  }
}

function slowParse(file: string, text: string, diagnostics: Diagnostics): SourceDocument[] {
  const documents: SourceDocument[] = [];
  for (const document of parseYamlDocuments(file, text, diagnostics)) {
    if (!hasContent(document.doc)) continue;
    let value: unknown;
    try {
      value = document.doc.toJS();
    } catch (err) {
      // e.g. aliases that expand beyond the library's limit (a "billion laughs" document)
      if (document.valid) diagnostics.error({ file, ...positionOfDocument(document) }, undefined, undefined, `invalid YAML: ${(err as Error).message}`);
      continue;
    }
    documents.push({ file, value, yaml: () => document, ...(document.valid ? {} : { broken: true as const }) });
  }
  return documents;
}

function positionOfDocument(document: YamlDocument): { line: number; col: number } {
  return document.lines.linePos(document.doc.range[0]);
}
