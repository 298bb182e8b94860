/**
 * Paths arrive from feeds and listings *decoded* (`/pub/naïve café.txt`, protocol.md §5); a URL
 * needs each segment percent-encoded. Only ever encode: a literal `%2e%2e` in a name is a name and
 * becomes `%252e%252e` on the wire, which the homeserver decodes back to `%2e%2e`. `keepEscapes`
 * is for the one generation (pubky-homeserver 0.1 / pubky 0.4) that stored and announced paths
 * still percent-encoded: there `%20` in a feed path must reach the server as `%20`.
 */
export function encodePathForUrl(path: string, options: { keepEscapes?: boolean } = {}): string {
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
        if (!options.keepEscapes) return encodeURIComponent(segment);
        // Homeservers v0.4 stored the request path undecoded (`my%20file.txt`): send its escapes as is.
        return segment
          .split(/(%[0-9A-Fa-f]{2})/)
          .map((part, i) => (i % 2 === 1 ? part : encodeURIComponent(part)))
          .join('');
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
