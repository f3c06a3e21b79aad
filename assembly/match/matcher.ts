// Request → matching resources. Exact keys (`/path`, `METHOD:/path`) are found by one hash lookup
// each on the raw bytes of :path (query stripped) and :method. Templates (`{name}` segments, a
// trailing `/**`) live in segment tries, one for keys without a method and one per method. Every
// matching resource is returned (each applies).
import { Resource } from "./resource";
import { FNV_OFFSET, fnv, fnvByte } from "./hash";
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

class MethodTrie {
  constructor(public method: ArrayBuffer, public root: TrieNode) {}
}

export class Matcher {
  private exact: Map<u32, ExactEntry> = new Map<u32, ExactEntry>();
  private anyMethod: TrieNode | null = null;
  private methodTries: MethodTrie[] = [];
  /** Whether any key names a method: otherwise :method is never read. */
  needsMethod: bool = false;
  hasExact: bool = false;

  add(resource: Resource): void {
    if (resource.method.length > 0) this.needsMethod = true;
    if (!resource.isTemplate) {
      this.hasExact = true;
      const bytes = String.UTF8.encode(resource.key);
      const h = fnv(FNV_OFFSET, changetype<usize>(bytes), <usize>bytes.byteLength);
      const entry = new ExactEntry(bytes, resource);
      if (this.exact.has(h)) entry.next = this.exact.get(h);
      this.exact.set(h, entry);
      return;
    }
    let node = this.trieFor(resource.method);
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

  private trieFor(method: string): TrieNode {
    if (method.length == 0) {
      let root = this.anyMethod;
      if (root === null) { root = new TrieNode(); this.anyMethod = root; }
      return root;
    }
    const bytes = String.UTF8.encode(method);
    for (let i = 0; i < this.methodTries.length; i++) {
      const t = this.methodTries[i];
      if (bytesEqual(changetype<usize>(t.method), <usize>t.method.byteLength, changetype<usize>(bytes), <usize>bytes.byteLength)) return t.root;
    }
    const root = new TrieNode();
    this.methodTries.push(new MethodTrie(bytes, root));
    return root;
  }

  /** Appends every resource matching the request to `out`. `path` must exclude the query. */
  match(methodPtr: usize, methodLen: usize, pathPtr: usize, pathLen: usize, out: Resource[]): void {
    if (pathLen == 0 || load<u8>(pathPtr) != 0x2f) return;
    if (this.hasExact) {
      const h = fnv(FNV_OFFSET, pathPtr, pathLen);
      this.collectExact(h, 0, 0, pathPtr, pathLen, out);
      if (methodLen > 0) {
        const hm = fnv(fnvByte(fnv(FNV_OFFSET, methodPtr, methodLen), 0x3a), pathPtr, pathLen);
        this.collectExact(hm, methodPtr, methodLen, pathPtr, pathLen, out);
      }
    }
    const any = this.anyMethod;
    if (any !== null) walk(any, pathPtr + 1, pathPtr + pathLen, false, out);
    for (let i = 0; i < this.methodTries.length; i++) {
      const t = unchecked(this.methodTries[i]);
      if (bytesEqual(changetype<usize>(t.method), <usize>t.method.byteLength, methodPtr, methodLen)) {
        walk(t.root, pathPtr + 1, pathPtr + pathLen, false, out);
      }
    }
  }

  private collectExact(h: u32, methodPtr: usize, methodLen: usize, pathPtr: usize, pathLen: usize, out: Resource[]): void {
    if (!this.exact.has(h)) return;
    let entry: ExactEntry | null = this.exact.get(h);
    while (entry !== null) {
      if (keyEquals(entry.bytes, methodPtr, methodLen, pathPtr, pathLen)) out.push(entry.resource);
      entry = entry.next;
    }
  }
}

/** Compares a stored key with `METHOD:path` (or `path` when methodLen is 0) without building it. */
function keyEquals(key: ArrayBuffer, methodPtr: usize, methodLen: usize, pathPtr: usize, pathLen: usize): bool {
  const k = changetype<usize>(key);
  const kLen = <usize>key.byteLength;
  if (methodLen == 0) return bytesEqual(k, kLen, pathPtr, pathLen);
  if (kLen != methodLen + 1 + pathLen) return false;
  return memory.compare(k, methodPtr, methodLen) == 0 && load<u8>(k + methodLen) == 0x3a &&
    memory.compare(k + methodLen + 1, pathPtr, pathLen) == 0;
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
