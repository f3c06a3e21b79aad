// How a typical framework routes a raw request path (Spring's UrlPathHelper, Tomcat, Express with
// decoding): written independently of the filter's canonical form, to check it from outside.
// Returns the route the framework would dispatch to, or undefined when it refuses the path.
export function frameworkRoute(raw: string): string | undefined {
  let path = raw.split(/[?#]/, 1)[0]!;
  path = path.replace(/;[^/\\]*/g, '');                 // path parameters, before decoding (Tomcat)
  let decoded: string;
  try { decoded = decodeURIComponent(path); } catch { return undefined; }
  if (decoded.includes('\0')) return undefined;
  const out: string[] = [];
  for (const segment of decoded.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop(); else out.push(segment);
  }
  return '/' + out.join('/');
}

/** A seeded generator (mulberry32), so a failing case can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEPARATORS = ['/', '//', '\\', '%2F', '%2f', '%5C', '/./', '/x/../', '/%2e/', '/%2E%2e/', '/.;p/'];
const SPELLINGS: Record<string, string[]> = {
  api: ['api', '%61pi', 'a%70i', 'API', 'api;v=1', 'ap', 'api%3B'],
  items: ['items', 'it%65ms', '%69tems', 'items;jsessionid=1', 'Items', 'items%252F', 'items%00', 'itemsx'],
};
const TAILS = ['', '/', '//', '?q=1', '#f', '%2F', ';x', '/.', '/..', '/%2e', '%', '%zz', '/./?a'];

/** A random spelling of /api/items (or of a near miss), from pieces clients use to get around a rule. */
export function randomSpelling(next: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
  const lead = next() < 0.2 ? pick(['/x/..', '/..', '/.', '//', '/%2e%2e']) : '';
  return lead + pick(SEPARATORS) + pick(SPELLINGS.api!) + pick(SEPARATORS) + pick(SPELLINGS.items!) + pick(TAILS);
}
