/** Path segments that are the homeserver's own routes (protocol.md §5), never part of its base URL. */
const ROUTE_SEGMENTS = new Set(['pub', 'events', 'events-stream', 'signup', 'session']);

export interface HomeserverBaseUrl {
  /** Origin plus any path prefix a reverse proxy serves the homeserver under, no trailing `/`. */
  url: string;
  /** What was dropped from the text, to tell the user (`/pub/`, a query…); undefined when nothing. */
  dropped?: string;
}

/**
 * Turns what a user pastes as a homeserver address into the base URL every request is built on.
 * People paste a file or listing link (`https://hs.example/pub/`, `…/events/`): everything from the
 * first homeserver route segment on is dropped, as are a query and a fragment, and reported in
 * `dropped`. A path prefix before it is kept (a homeserver behind a proxy at `/homeserver/`).
 * Throws `RangeError` with a message for a person: not http(s), credentials in the URL, unparsable.
 */
export function homeserverBaseUrl(text: string): HomeserverBaseUrl {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RangeError(
      `${JSON.stringify(text)} is not a URL; a homeserver address looks like https://homeserver.example.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RangeError(
      `A homeserver address starts with http:// or https://, got ${JSON.stringify(text)}.`,
    );
  }
  if (url.username || url.password) {
    throw new RangeError('A homeserver address has no user name or password in it; remove them.');
  }
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  const route = segments.findIndex((segment) => ROUTE_SEGMENTS.has(segment));
  const kept = route === -1 ? segments : segments.slice(0, route);
  const droppedParts: string[] = [];
  if (route !== -1)
    droppedParts.push(`/${segments.slice(route).join('/')}${url.pathname.endsWith('/') ? '/' : ''}`);
  if (url.search) droppedParts.push(url.search);
  if (url.hash) droppedParts.push(url.hash);
  const base = `${url.origin}${kept.length > 0 ? `/${kept.join('/')}` : ''}`;
  return droppedParts.length > 0 ? { url: base, dropped: droppedParts.join('') } : { url: base };
}
