// The fastest path of parsing: plain block YAML, what generated and hand-written rule files mostly
// are (block mappings and sequences, one-line plain or quoted scalars without escapes, comments,
// `---`), read line by line into the values js-yaml gives (fast-yaml.ts), several times faster.
// Anything else (non-ASCII or control characters, tabs, CR, flow collections, block or multi-line
// scalars, escapes, unusual keys or indentation, duplicate keys) is refused as a whole (undefined):
// js-yaml reads that file as before. So only a narrow grammar must match js-yaml exactly; the tests
// compare the two on every input they parse (test/spec/block-yaml.test.ts).
import { plainValue } from './core-scalars.ts';

/** Thrown inside, caught at the top: the file is not in the subset. */
const REFUSED = new Error('not plain block YAML');

/** Anything but printable ASCII and LF. */
const OUTSIDE_ASCII = /[^\n\x20-\x7e]/;

const SPACE = 0x20;
const DASH = 0x2d;
const COLON = 0x3a;
const HASH = 0x23;
const SQUOTE = 0x27;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Characters a plain scalar may not start with (YAML indicators; `-` is checked apart). */
const INDICATORS = '[]{},#&*!|>%@`?:';

/** Every document with content, or undefined when the file is not plain block YAML. */
export function blockParse(text: string): unknown[] | undefined {
  if (OUTSIDE_ASCII.test(text)) return undefined;
  try {
    return new BlockParser(text).documents();
  } catch (err) {
    if (err === REFUSED) return undefined;
    throw err;
  }
}

class BlockParser {
  /** Where the line after the current one starts. */
  private next = 0;
  /** The current content line (blank and comment lines are skipped): its indent and extent. */
  private indent = 0;
  private start = 0;
  private end = 0;
  /** The current line ends the document (`---`) or there is none (end of text). */
  private boundary = true;
  private atEnd = false;
  private readonly keys = new Map<string, string>();

  constructor(private readonly text: string) {}

  documents(): unknown[] {
    const documents: unknown[] = [];
    this.advance();
    while (!this.atEnd) {
      if (!this.boundary) {
        if (this.indent !== 0 || !this.isKey(this.start)) throw REFUSED;
        documents.push(this.mapping(0));
        if (!this.boundary) throw REFUSED;
      }
      if (!this.atEnd) this.advance();
    }
    return documents;
  }

  /** Moves to the next content line, or to a `---` line (boundary), or past the end. */
  private advance(): void {
    const text = this.text;
    while (this.next < text.length) {
      const lineStart = this.next;
      const newline = text.indexOf('\n', lineStart);
      const end = newline === -1 ? text.length : newline;
      this.next = end + 1;
      let i = lineStart;
      while (i < end && text.charCodeAt(i) === SPACE) i++;
      if (i === end || text.charCodeAt(i) === HASH) continue;
      if (i === lineStart && (text.startsWith('---', i) || text.startsWith('...', i))) {
        if (end - lineStart !== 3 || text.charCodeAt(i) !== DASH) throw REFUSED;
        this.boundary = true;
        return;
      }
      this.indent = i - lineStart;
      this.start = i;
      this.end = end;
      this.boundary = false;
      return;
    }
    this.boundary = true;
    this.atEnd = true;
  }

  /** A block mapping whose first key is at `from` on the current line, at column `column`. */
  private mapping(column: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    let from = this.start + (column - this.indent);
    for (;;) {
      const colon = this.keyEnd(from);
      if (colon === -1) throw REFUSED;
      const key = this.key(from, colon);
      if (Object.hasOwn(map, key)) throw REFUSED;
      map[key] = this.value(this.skipSpaces(colon + 1), column);
      if (this.boundary || this.indent < column) return map;
      if (this.indent > column) throw REFUSED;
      from = this.start;
    }
  }

  /** A block sequence whose items start at column `column` (the current line is its first item). */
  private sequence(column: number): unknown[] {
    const items: unknown[] = [];
    for (;;) {
      const content = this.skipSpaces(this.start + 1);
      if (content === this.start + 1 || content === this.end || this.isItem(content)) throw REFUSED;
      if (this.isKey(content)) items.push(this.mapping(column + (content - this.start)));
      else {
        items.push(this.scalar(content));
        this.advance();
      }
      if (this.boundary || this.indent < column) return items;
      if (this.indent > column) throw REFUSED;
      if (!this.isItem(this.start)) return items;
    }
  }

  /**
   * The value of a key of the mapping at `column`, written from `from` on the current line; leaves
   * the parser at the line after it.
   */
  private value(from: number, column: number): unknown {
    if (from < this.end && this.text.charCodeAt(from) !== HASH) {
      const value = this.scalar(from);
      this.advance();
      return value;
    }
    this.advance();
    if (this.boundary) return null;
    if (this.indent > column) {
      if (this.isItem(this.start)) return this.sequence(this.indent);
      if (this.isKey(this.start)) return this.mapping(this.indent);
      throw REFUSED;
    }
    if (this.indent === column && this.isItem(this.start)) return this.sequence(column);
    return null;
  }

  /** The scalar from `from` to the end of the current line (with an optional trailing comment). */
  private scalar(from: number): unknown {
    const c = this.text.charCodeAt(from);
    if (c === SQUOTE || c === DQUOTE) return this.quoted(from, c);
    if (INDICATORS.includes(this.text[from]!)) throw REFUSED;
    if (c === DASH && (from + 1 === this.end || this.text.charCodeAt(from + 1) === SPACE || this.text.charCodeAt(from + 1) === DASH)) throw REFUSED;
    let end = this.commentStart(from);
    while (this.text.charCodeAt(end - 1) === SPACE) end--;
    const plain = this.text.slice(from, end);
    if (plain.includes(': ') || plain.endsWith(':')) throw REFUSED;
    return plainValue(plain);
  }

  /** A one-line quoted scalar; `''` in single quotes is a quote, a backslash in double quotes is refused. */
  private quoted(from: number, quote: number): string {
    const text = this.text;
    let value = '';
    let i = from + 1;
    for (;;) {
      const close = this.find(quote, i);
      if (close === this.end) throw REFUSED;
      value += text.slice(i, close);
      if (quote === SQUOTE && text.charCodeAt(close + 1) === SQUOTE) {
        value += "'";
        i = close + 2;
        continue;
      }
      if (quote === DQUOTE && value.includes('\\')) throw REFUSED;
      i = close + 1;
      break;
    }
    const rest = this.skipSpaces(i);
    if (rest < this.end && !(rest > i && text.charCodeAt(rest) === HASH)) throw REFUSED;
    return value;
  }

  /**
   * The key from `from` to `colon`, checked once per distinct key: the same few keys repeat in every
   * object, and one string per key (not a new slice each time) lets V8 store properties fast.
   */
  private key(from: number, colon: number): string {
    const written = this.text.slice(from, colon);
    const known = this.keys.get(written);
    if (known !== undefined) return known;
    if (typeof plainValue(written) !== 'string' || written === '__proto__') throw REFUSED;
    this.keys.set(written, written);
    return written;
  }

  /** Where the `:` of a key starting at `from` is (a key of letters, digits, `_./-`), else -1. */
  private keyEnd(from: number): number {
    const text = this.text;
    if (text.charCodeAt(from) === DASH) return -1;
    let i = from;
    while (i < this.end && isKeyChar(text.charCodeAt(i))) i++;
    if (i === from || text.charCodeAt(i) !== COLON) return -1;
    return i + 1 === this.end || text.charCodeAt(i + 1) === SPACE ? i : -1;
  }

  /** Where a comment (` #`) starts on the current line after `from`, else the line's end. */
  private commentStart(from: number): number {
    for (let i = this.find(HASH, from); i < this.end; i = this.find(HASH, i + 1)) {
      if (this.text.charCodeAt(i - 1) === SPACE) return i - 1;
    }
    return this.end;
  }

  /** The first `c` on the current line from `from`, else the line's end (never searching past it). */
  private find(c: number, from: number): number {
    let i = from;
    while (i < this.end && this.text.charCodeAt(i) !== c) i++;
    return i;
  }

  private isKey(from: number): boolean {
    return this.keyEnd(from) !== -1;
  }

  /** `- ` or a lone `-`. */
  private isItem(from: number): boolean {
    return this.text.charCodeAt(from) === DASH && (from + 1 === this.end || this.text.charCodeAt(from + 1) === SPACE);
  }

  private skipSpaces(from: number): number {
    let i = from;
    while (i < this.end && this.text.charCodeAt(i) === SPACE) i++;
    return i;
  }
}

function isKeyChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2f || c === DASH;
}
