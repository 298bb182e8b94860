import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HomeserverContext } from './context.js';
import { parseEventCursor } from './event-cursor.js';
import { HttpError, lastParam, listLimit, parseBool, parseU16, sendText } from './http.js';
import { isPubkyPrefixed, keyOrUndefined } from './pubky-host.js';
import type { FeedEvent } from './state.js';
import { normalizeWebDavPath, PathError } from './webdav-path.js';

const MAX_STREAM_USERS = 50;

/**
 * `GET /events/?cursor=&limit=` (pubky-homeserver v0.6.0 `routes/events.rs` `feed`): the
 * homeserver-wide text feed, lines `PUT|DEL pubky://<user><path>`, then `cursor: <last id>` when
 * the page has events. `limit` as listings (default 100, max 1000, 0 = empty page, junk ignored);
 * `reverse`/`shallow` must be booleans (the query is read like a listing's); a cursor that is not
 * an id or a known legacy timestamp is 400 "Invalid cursor".
 */
export function eventsFeed(ctx: HomeserverContext, res: ServerResponse, url: URL) {
  const query = url.searchParams;
  parseBool(lastParam(query, 'reverse'));
  parseBool(lastParam(query, 'shallow'));
  const limit = listLimit(lastParam(query, 'limit'));
  let cursorText = lastParam(query, 'cursor') ?? '';
  if (cursorText.startsWith('pubky://')) cursorText = cursorText.slice('pubky://'.length);
  const cursor = parseEventCursor(cursorText === '' ? '0' : cursorText, ctx.state);
  if (cursor === undefined) throw new HttpError(400, 'Invalid cursor');
  const events = ctx.state.eventsAfter(Math.max(cursor, 0), limit);
  const lines = events.map((event) => `${event.type} ${event.uri}`);
  const last = events.at(-1);
  if (last) lines.push(`cursor: ${last.id}`);
  sendText(res, 200, lines.join('\n'), { 'Content-Type': 'text/plain' });
}

interface StreamQuery {
  /** Per user: events after (forward) or before (reverse) this id; undefined = all of them. */
  cursors: Map<string, number | undefined>;
  limit?: number;
  reverse: boolean;
  live: boolean;
  path?: string;
}

/**
 * `GET /events-stream?user=<z32>[:cursor]…&limit&reverse&live&path` (SSE, `feed_stream`).
 * Non-live: the backlog, then the stream ends. Live: backlog, then new events as they happen.
 * In reverse order a cursor means "events before it", so `user=<z32>:0&reverse=true` is empty.
 * `limit` is checked after each event, so `limit=0` still sends one.
 */
export function eventsStream(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse, url: URL) {
  const query = parseStreamQuery(ctx, url.search.slice(1));
  const cursors = new Map(query.cursors);
  const wanted = (event: FeedEvent) => {
    if (!cursors.has(event.owner)) return false;
    const cursor = cursors.get(event.owner);
    if (cursor !== undefined && (query.reverse ? event.id >= cursor : event.id <= cursor)) return false;
    return query.path === undefined || event.path.startsWith(query.path);
  };
  const backlog: FeedEvent[] = [];
  for (const owner of cursors.keys()) backlog.push(...ctx.state.eventsOf(owner).filter(wanted));
  backlog.sort((a, b) => (query.reverse ? b.id - a.id : a.id - b.id));

  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  let sent = 0;
  /** Sends one event; true when the limit is reached and the stream must end. */
  const send = (event: FeedEvent): boolean => {
    const data = [event.uri, `cursor: ${event.id}`];
    if (event.type === 'PUT' && event.contentHash) data.push(`content_hash: ${event.contentHash}`);
    res.write(`event: ${event.type}\n${data.map((line) => `data: ${line}\n`).join('')}\n`);
    cursors.set(event.owner, event.id);
    sent++;
    return query.limit !== undefined && sent >= query.limit;
  };
  for (const event of backlog) {
    if (send(event)) return void res.end();
  }
  if (!query.live) return void res.end();
  // Subscribed in the same tick as the backlog was read, so no event falls between the two.
  const onEvent = (event: FeedEvent) => {
    if (wanted(event) && send(event)) stop();
  };
  const keepAlive = setInterval(() => res.write(':\n\n'), ctx.limits.keepAliveSeconds * 1000);
  const stop = () => {
    clearInterval(keepAlive);
    ctx.state.off('event', onEvent);
    res.end();
  };
  ctx.state.on('event', onEvent);
  req.on('close', stop);
}

/** `parse_query_params` + `resolve_user_cursors`, with the same errors in the same order. */
function parseStreamQuery(ctx: HomeserverContext, rawQuery: string): StreamQuery {
  const users: string[] = [];
  let limit: number | undefined;
  let reverse = false;
  let live = false;
  let rawPath: string | undefined;
  for (const [key, value] of new URLSearchParams(rawQuery)) {
    if (key === 'user') users.push(value);
    else if (key === 'limit') {
      limit = parseU16(value);
      if (limit === undefined) throw new HttpError(400, `Invalid limit: ${value}`);
    } else if (key === 'reverse') reverse = value === 'true' || value === '1';
    else if (key === 'live') live = value === 'true' || value === '1';
    else if (key === 'path' && value !== '') rawPath = value;
  }
  if (live && reverse) throw new HttpError(400, 'Cannot use live mode with reverse ordering');
  const parsed: Array<{ user: string; cursor?: string }> = [];
  for (const value of users) {
    if (value === '') continue;
    const colon = value.indexOf(':');
    const key = colon === -1 ? value : value.slice(0, colon);
    const user = isPubkyPrefixed(key) ? undefined : keyOrUndefined(key);
    if (user === undefined) throw new HttpError(400, `Invalid public key: ${key}`);
    parsed.push({ user, cursor: colon === -1 ? undefined : value.slice(colon + 1) });
  }
  if (parsed.length === 0) throw new HttpError(400, 'user parameter is required');
  if (parsed.length > MAX_STREAM_USERS) {
    throw new HttpError(400, `Too many users. Maximum allowed: ${MAX_STREAM_USERS}`);
  }
  let path: string | undefined;
  if (rawPath !== undefined) {
    const withSlash = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
    try {
      path = normalizeWebDavPath(withSlash);
    } catch (error) {
      if (error instanceof PathError) throw new HttpError(400, `Invalid path: ${withSlash}`);
      throw error;
    }
  }
  const cursors = new Map<string, number | undefined>();
  for (const { user, cursor } of parsed) {
    // An unknown user is a bare "Not Found" (`HttpError::not_found()`), like a missing route.
    if (!ctx.state.users.has(user)) throw new HttpError(404, 'Not Found');
    if (cursor === undefined) {
      cursors.set(user, undefined);
      continue;
    }
    const id = parseEventCursor(cursor, ctx.state);
    if (id === undefined) throw new HttpError(400, `Invalid cursor: ${cursor}`);
    cursors.set(user, id);
  }
  return { cursors, limit, reverse, live, path };
}
