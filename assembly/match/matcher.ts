// Request → matching resources, on the raw bytes of :path (query stripped). Exact keys (`/path`,
// `METHOD:/path`) are found by one hash lookup of the path; templates (`{name}` segments, a trailing
// `/**`) by a walk of one segment trie. Both give candidates by path only: a key's METHOD is checked
// afterwards (`Resource.acceptsMethod`), so :method is read only when a candidate names one. Every
// matching resource is returned (each applies).
import { Resource } from "./resource";
import { FNV_OFFSET, fnv } from "./hash";
import { bytesEqual } from "../abi";

/** The terminal and rest lists of nodes without one share this (never written). */
const NONE: Resource[] = [];

class TrieNode {
  sibling: TrieNode | null = null;
  param: TrieNode | null = null;
  /** Resources whose template ends here. */
  terminal: Resource[] = NONE;
  /** Resources whose template ends here with `/**` (any remainder, including none). */
  rest: Resource[] = NONE;
  /** `id`: its number in the trie (children are found by it); a literal child's `parent` id and
   *  segment, bytes of the path of the resource that made it (alive as long as the matcher). */
  constructor(readonly id: u32, readonly parent: u32, readonly segment: usize, readonly segmentLength: usize) {}
}

export class Matcher {
  /** Exact resources by FNV hash of the path; collisions chain through `Resource.nextExact`. */
  private exact: Map<u32, Resource> = new Map<u32, Resource>();
  /** The literal children of every trie node, by a hash of its id and the segment (one map for the
   *  trie, not one per node); collisions chain through `sibling`. */
  private children: Map<u32, TrieNode> = new Map<u32, TrieNode>();
  private templates: TrieNode | null = null;
  private nodes: u32 = 0;
  hasExact: bool = false;

  add(resource: Resource): void {
    const p = resource.pathPtr;
    const n = <usize>resource.pathLength;
    if (!resource.isTemplate) {
      this.hasExact = true;
      const h = fnv(FNV_OFFSET, p, n);
      if (this.exact.has(h)) resource.nextExact = this.exact.get(h);
      this.exact.set(h, resource);
      return;
    }
    let node = this.templates;
    if (node === null) this.templates = node = this.node(0, 0, 0);
    // The segments after the leading `/`, empty ones included.
    const end = p + n;
    let pos = p + 1;
    while (true) {
      let segEnd = pos;
      while (segEnd < end && load<u8>(segEnd) != 0x2f) segEnd++;
      const len = segEnd - pos;
      const last = segEnd >= end;
      if (last && len == 2 && load<u16>(pos) == 0x2a2a) { node.rest = appended(node.rest, resource); return; }   // `**`
      if (len >= 2 && load<u8>(pos) == 0x7b && load<u8>(segEnd - 1) == 0x7d) {   // `{name}`
        let param = node.param;
        if (param === null) node.param = param = this.node(node.id, 0, 0);
        node = param;
      } else {
        node = this.child(node, pos, len);
      }
      if (last) break;
      pos = segEnd + 1;
    }
    node.terminal = appended(node.terminal, resource);
  }

  /** Appends every resource whose path matches to `out`. `path` must exclude the query. */
  match(pathPtr: usize, pathLen: usize, out: Resource[]): void {
    if (pathLen == 0 || load<u8>(pathPtr) != 0x2f) return;
    if (this.hasExact) {
      const h = fnv(FNV_OFFSET, pathPtr, pathLen);
      if (this.exact.has(h)) {
        let resource: Resource | null = this.exact.get(h);
        while (resource !== null) {
          if (bytesEqual(resource.pathPtr, <usize>resource.pathLength, pathPtr, pathLen)) out.push(resource);
          resource = resource.nextExact;
        }
      }
    }
    const templates = this.templates;
    if (templates !== null) this.walk(templates, pathPtr + 1, pathPtr + pathLen, false, out);
  }

  private node(parent: u32, segment: usize, length: usize): TrieNode { return new TrieNode(this.nodes++, parent, segment, length); }

  /** The literal child of `node` for the segment at [ptr, ptr + len), created if new. */
  private child(node: TrieNode, ptr: usize, len: usize): TrieNode {
    const found = this.findChild(node, ptr, len);
    if (found !== null) return found;
    const created = this.node(node.id, ptr, len);
    const key = childKey(node, ptr, len);
    if (this.children.has(key)) created.sibling = this.children.get(key);
    this.children.set(key, created);
    return created;
  }

  private findChild(node: TrieNode, ptr: usize, len: usize): TrieNode | null {
    const key = childKey(node, ptr, len);
    if (!this.children.has(key)) return null;
    let child: TrieNode | null = this.children.get(key);
    while (child !== null) {
      if (child.parent == node.id && bytesEqual(child.segment, child.segmentLength, ptr, len)) return child;
      child = child.sibling;
    }
    return null;
  }

  /** Walks the trie over the path segments in [pos, end). `done` marks that no segment is left. */
  private walk(node: TrieNode, pos: usize, end: usize, done: bool, out: Resource[]): void {
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
    const child = this.findChild(node, pos, segLen);
    if (child !== null) this.walk(child, next, end, last, out);
    const param = node.param;
    if (param !== null && segLen > 0) this.walk(param, next, end, last, out);
  }
}

@inline function childKey(node: TrieNode, ptr: usize, len: usize): u32 {
  return fnv(FNV_OFFSET ^ (node.id * 0x9e3779b1), ptr, len);
}

/** `list` with `resource` appended (the shared NONE is replaced, never written). */
function appended(list: Resource[], resource: Resource): Resource[] {
  if (list === NONE) return [resource];
  list.push(resource);
  return list;
}
