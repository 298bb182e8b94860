/**
 * Paths arrive from feeds and listings *decoded* (`/pub/naïve café.txt`, protocol.md §5); a URL
 * needs each segment percent-encoded. Only ever encode: a literal `%2e%2e` in a name is a name and
 * becomes `%252e%252e` on the wire, which the homeserver decodes back to `%2e%2e`.
 */
export function encodePathForUrl(path: string): string {
  if (!path.startsWith('/'))
    throw new RangeError(`A homeserver path starts with "/": ${JSON.stringify(path)}`);
  return path
    .split('/')
    .map((segment) => {
      // URL parsers resolve `.`/`..` even when percent-encoded, so such a path cannot be sent as is;
      // the homeserver never stores one (it resolves them at write time).
      if (segment === '.' || segment === '..') {
        throw new RangeError(`A homeserver path has no "." or ".." segments: ${JSON.stringify(path)}`);
      }
      try {
        return encodeURIComponent(segment);
      } catch {
        throw new RangeError(`Path is not valid Unicode (lone surrogate): ${JSON.stringify(path)}`);
      }
    })
    .join('/');
}

/** A query string from pairs, values percent-encoded (`%20`, never `+`). Repeated keys allowed. */
export function queryString(pairs: ReadonlyArray<readonly [string, string | undefined]>): string {
  const parts = pairs
    .filter((pair): pair is readonly [string, string] => pair[1] !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}
