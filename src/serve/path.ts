// The request target as the emitted Envoy bootstrap hands it on (HCM normalize_path, merge_slashes,
// path_with_escaped_slashes_action UNESCAPE_AND_FORWARD), so that `sergo serve` forwards what the
// filter matched: an absolute-form target (`GET http://host/p`) becomes a path plus :authority;
// `%2F`, `%5C` and `\` become `/`; escapes of unreserved characters are decoded; slashes merge;
// `.` and `..` are resolved. The query is kept as it came; a trailing slash and `;params` too (Envoy
// keeps them; the filter ignores them for matching).

export interface RequestTarget { path: string; authority?: string }

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** The normalised target, or undefined when it is no origin-form or absolute-form target (400). */
export function requestTarget(url: string): RequestTarget | undefined {
  let authority: string | undefined;
  let target = url;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url);
  if (absolute) {
    authority = absolute[1]!;
    target = url.slice(absolute[0].length);
    if (target === '' || target.startsWith('?')) target = '/' + target;
  }
  if (!target.startsWith('/')) return undefined;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q);
  return { path: normalizePath(path) + query, ...(authority !== undefined ? { authority } : {}) };
}

function normalizePath(path: string): string {
  const unescaped = path
    .replace(/%(2f|5c)/gi, '/')
    .replace(/\\/g, '/')
    .replace(/%([0-9a-f]{2})/gi, (m, hex: string) => {
      const c = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(c) ? c : m;
    });
  const segments = unescaped.split('/');
  const trailing = segments.length > 1 && ['', '.', '..'].includes(segments[segments.length - 1]!);
  const out: string[] = [];
  for (const segment of segments) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop(); else out.push(segment);
  }
  return '/' + out.join('/') + (trailing && out.length > 0 ? '/' : '');
}
