// Request → matching resources, on the raw bytes of :path (query stripped). Exact keys (`/path`,
// `METHOD:/path`) are found by one hash lookup of the path; templates (`{name}` segments, a trailing
// `/**`) by a walk of one segment trie. Both give candidates by path only: a key's METHOD is checked
// afterwards (`Resource.acceptsMethod`), so :method is read only when a candidate names one. Every
// matching resource is returned (each applies).
import { Resource } from "./resource";
import { FNV_OFFSET, fnv } from "./hash";
import { bytesEqual } from "../abi";

class ExactEntry {
  next: ExactEntry | null = null;
  constructor(public bytes: ArrayBuffer, public resource: Resource) {}
}

class TrieNode {
  /** Literal children by FNV hash of the segment; collisions chain through `sibling`. */
  children: Map<u32, TrieNode> = new Map<u32, TrieNode>();
  sibling: TrieNode | null = null;
  segment: ArrayBuffer = new ArrayBuffer(0);
  param: TrieNode | null = null;
  /** Resources whose template ends here. */
  terminal: Resource[] = [];
  /** Resources whose template ends here with `/**` (any remainder, including none). */
  rest: Resource[] = [];

  child(segment: string): TrieNode {
    const bytes = String.UTF8.encode(segment);
    const h = fnv(FNV_OFFSET, changetype<usize>(bytes), <usize>bytes.byteLength);
    let node: TrieNode | null = this.children.has(h) ? this.children.get(h) : null;
    const head = node;
    while (node !== null) {
      if (bytesEqual(changetype<usize>(node.segment), <usize>node.segment.byteLength, changetype<usize>(bytes), <usize>bytes.byteLength)) return node;
      node = node.sibling;
    }
    const created = new TrieNode();
    created.segment = bytes;
    created.sibling = head;
    this.children.set(h, created);
    return created;
  }

  findChild(ptr: usize, len: usize): TrieNode | null {
    const h = fnv(FNV_OFFSET, ptr, len);
    if (!this.children.has(h)) return null;
    let node: TrieNode | null = this.children.get(h);
    while (node !== null) {
      if (bytesEqual(changetype<usize>(node.segment), <usize>node.segment.byteLength, ptr, len)) return node;
      node = node.sibling;
    }
    return null;
  }
}

export class Matcher {
  private exact: Map<u32, ExactEntry> = new Map<u32, ExactEntry>();
  private templates: TrieNode | null = null;
  hasExact: bool = false;

  add(resource: Resource): void {
    if (!resource.isTemplate) {
      this.hasExact = true;
      const bytes = String.UTF8.encode(resource.path);
      const h = fnv(FNV_OFFSET, changetype<usize>(bytes), <usize>bytes.byteLength);
      const entry = new ExactEntry(bytes, resource);
      if (this.exact.has(h)) entry.next = this.exact.get(h);
      this.exact.set(h, entry);
      return;
    }
    let node = this.templates;
    if (node === null) { node = new TrieNode(); this.templates = node; }
    const segments = resource.path.substring(1).split("/");
    const last = segments.length - 1;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      if (i == last && segment == "**") { node.rest.push(resource); return; }
      if (segment.startsWith("{") && segment.endsWith("}")) {
        let param = node.param;
        if (param === null) { param = new TrieNode(); node.param = param; }
        node = param;
      } else {
        node = node.child(segment);
      }
    }
    node.terminal.push(resource);
  }

  /** Appends every resource whose path matches to `out`. `path` must exclude the query. */
  match(pathPtr: usize, pathLen: usize, out: Resource[]): void {
    if (pathLen == 0 || load<u8>(pathPtr) != 0x2f) return;
    if (this.hasExact) {
      const h = fnv(FNV_OFFSET, pathPtr, pathLen);
      if (this.exact.has(h)) {
        let entry: ExactEntry | null = this.exact.get(h);
        while (entry !== null) {
          if (bytesEqual(changetype<usize>(entry.bytes), <usize>entry.bytes.byteLength, pathPtr, pathLen)) out.push(entry.resource);
          entry = entry.next;
        }
      }
    }
    const templates = this.templates;
    if (templates !== null) walk(templates, pathPtr + 1, pathPtr + pathLen, false, out);
  }
}

/** Walks the trie over the path segments in [pos, end). `done` marks that no segment is left. */
function walk(node: TrieNode, pos: usize, end: usize, done: bool, out: Resource[]): void {
  for (let i = 0; i < node.rest.length; i++) out.push(unchecked(node.rest[i]));
  if (done || pos > end) {
    for (let i = 0; i < node.terminal.length; i++) out.push(unchecked(node.terminal[i]));
    return;
  }
  let segEnd = pos;
  while (segEnd < end && load<u8>(segEnd) != 0x2f) segEnd++;
  const segLen = segEnd - pos;
  const last = segEnd >= end;
  const next = last ? end : segEnd + 1;
  const child = node.findChild(pos, segLen);
  if (child !== null) walk(child, next, end, last, out);
  const param = node.param;
  if (param !== null && segLen > 0) walk(param, next, end, last, out);
}
