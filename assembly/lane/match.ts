// Does a request match a colouring rule's block? Every part is compared on the host's copy of the
// header, in place: the path up to `?` or `#` as it arrives (not canonicalised: routes compare it
// this way too), the method, headers (the first value of a repeated one) and query parameters (the
// first of a repeated name, raw, still percent-encoded). :path is fetched once per request.
import { Bytes, MapType, Status, getHeader, hostPtr, hostSize } from "../abi";
import { Block, Condition, MatchKind, NamedCondition } from "./config";

const PATH = new Bytes(":path");
const METHOD = new Bytes(":method");

/** The request's :path for this callback: fetched on first use. */
class PathView {
  fetched: bool = false;
  found: bool = false;
  ptr: usize = 0;
  pathLen: usize = 0;
  /** The query, without its `?` (queryLen 0 when none). */
  queryPtr: usize = 0;
  queryLen: usize = 0;
}
const view = new PathView();

/** Forget the previous request's path (at the start of each request's headers). */
export function resetRequestView(): void { view.fetched = false; }

function fetchPath(): void {
  view.fetched = true;
  view.found = getHeader(MapType.HTTP_REQUEST_HEADERS, PATH) == Status.OK;
  if (!view.found) return;
  const ptr = hostPtr();
  const len = hostSize();
  let end: usize = 0;
  while (end < len && load<u8>(ptr + end) != 0x3f && load<u8>(ptr + end) != 0x23) end++;
  let qEnd = end;
  if (end < len && load<u8>(ptr + end) == 0x3f) {
    qEnd = end + 1;
    while (qEnd < len && load<u8>(ptr + qEnd) != 0x23) qEnd++;
  }
  view.ptr = ptr;
  view.pathLen = end;
  view.queryPtr = end < len ? ptr + end + 1 : ptr + len;
  view.queryLen = qEnd > end ? qEnd - end - 1 : 0;
}

@inline function fold(c: u32): u32 { return c >= 0x41 && c <= 0x5a ? c | 0x20 : c; }

function sameBytes(a: usize, b: usize, n: usize, ignoreCase: bool): bool {
  if (!ignoreCase) return memory.compare(a, b, n) == 0;
  for (let i: usize = 0; i < n; i++) if (fold(<u32>load<u8>(a + i)) != fold(<u32>load<u8>(b + i))) return false;
  return true;
}

export function conditionHolds(c: Condition, ptr: usize, len: usize): bool {
  if (c.kind == MatchKind.Present) return true;
  const n = <usize>c.value.byteLength;
  if (c.kind == MatchKind.Exact ? len != n : len < n) return false;
  return sameBytes(ptr, changetype<usize>(c.value), n, c.ignoreCase);
}

export function blockMatches(b: Block): bool {
  const path = b.path;
  if (path !== null || b.query.length > 0) {
    if (!view.fetched) fetchPath();
    if (!view.found) return false;
    if (path !== null && !conditionHolds(path, view.ptr, view.pathLen)) return false;
  }
  const method = b.method;
  if (method !== null) {
    if (getHeader(MapType.HTTP_REQUEST_HEADERS, METHOD) != Status.OK) return false;
    if (!conditionHolds(method, hostPtr(), hostSize())) return false;
  }
  for (let i = 0; i < b.headers.length; i++) {
    const h = unchecked(b.headers[i]);
    if (getHeader(MapType.HTTP_REQUEST_HEADERS, h.name) != Status.OK) return false;
    if (!conditionHolds(h.condition, hostPtr(), hostSize())) return false;
  }
  for (let i = 0; i < b.query.length; i++) if (!queryHolds(unchecked(b.query[i]))) return false;
  return true;
}

/** The first parameter named `q.name` in the query holds `q.condition` (absent: false). */
function queryHolds(q: NamedCondition): bool {
  const ptr = view.queryPtr;
  const len = view.queryLen;
  const name = q.name;
  let from: usize = 0;
  while (from < len) {
    let to = from;
    while (to < len && load<u8>(ptr + to) != 0x26) to++;
    let eq = from;
    while (eq < to && load<u8>(ptr + eq) != 0x3d) eq++;
    if (eq - from == name.length && memory.compare(ptr + from, name.ptr, name.length) == 0) {
      const valueStart = eq < to ? eq + 1 : to;
      return conditionHolds(q.condition, ptr + valueStart, to - valueStart);
    }
    from = to + 1;
  }
  return false;
}
