import type { IncomingMessage, ServerResponse } from 'node:http';
import { parsePubky } from '../../identity/index.js';
import type { HomeserverContext } from './context.js';
import { HttpError, parseBool, parseUint, sendText } from './http.js';
import type { FeedEvent } from './state.js';

const MAX_STREAM_USERS = 50;

/** `GET /events/?cursor=&limit=`: the homeserver-wide text feed, then `cursor: <last id>`. */
export function eventsFeed(ctx: HomeserverContext, res: ServerResponse, url: URL) {
  const cursor = parseUint(url.searchParams.get('cursor'), 'cursor', Number.MAX_SAFE_INTEGER) ?? 0;
  const limit = Math.min(parseUint(url.searchParams.get('limit'), 'limit', 65_535) ?? 100, 1000);
  const events = ctx.state.eventsAfter(cursor, limit);
  const lines = events.map((event) => `${event.type} ${event.uri}`);
  const last = events.at(-1);
  if (last) lines.push(`cursor: ${last.id}`);
  sendText(res, 200, lines.join('\n'));
}

/**
 * `GET /events-stream?user=<z32>[:cursor]…&limit&reverse&live&path` (SSE). Non-live: the backlog,
 * then the stream ends. Live: backlog, then new events as they happen.
 */
export function eventsStream(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse, url: URL) {
  const query = url.searchParams;
  const cursors = parseUsers(ctx, query.getAll('user'));
  const limit = parseUint(query.get('limit'), 'limit', 65_535);
  const reverse = parseBool(query.get('reverse'), 'reverse') ?? false;
  const live = parseBool(query.get('live'), 'live') ?? false;
  if (live && reverse) throw new HttpError(400, 'Cannot use live mode with reverse ordering');
  const rawPath = query.get('path');
  const prefix = rawPath === null ? undefined : rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
  const wanted = (event: FeedEvent) =>
    event.id > (cursors.get(event.owner) ?? Number.POSITIVE_INFINITY) &&
    (prefix === undefined || event.path.startsWith(prefix));

  const backlog: FeedEvent[] = [];
  for (const owner of cursors.keys()) backlog.push(...ctx.state.eventsOf(owner).filter(wanted));
  backlog.sort((a, b) => (reverse ? b.id - a.id : a.id - b.id));

  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
  });
  let sent = 0;
  const send = (event: FeedEvent) => {
    const data = [event.uri, `cursor: ${event.id}`];
    if (event.type === 'PUT' && event.contentHash) data.push(`content_hash: ${event.contentHash}`);
    res.write(`event: ${event.type}\n${data.map((line) => `data: ${line}\n`).join('')}\n`);
    sent++;
  };
  const full = () => limit !== undefined && sent >= limit;
  for (const event of backlog) {
    if (full()) break;
    send(event);
  }
  if (!live || full()) {
    res.end();
    return;
  }
  // Subscribed in the same tick as the backlog was read, so no event falls between the two.
  const onEvent = (event: FeedEvent) => {
    if (!wanted(event)) return;
    send(event);
    if (full()) stop();
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

function parseUsers(ctx: HomeserverContext, values: string[]): Map<string, number> {
  if (values.length === 0) throw new HttpError(400, 'At least one user parameter is required');
  if (values.length > MAX_STREAM_USERS) {
    throw new HttpError(400, `Too many users: at most ${MAX_STREAM_USERS} per stream`);
  }
  const cursors = new Map<string, number>();
  for (const value of values) {
    const [key = '', cursorText, ...rest] = value.split(':');
    if (rest.length > 0 || key.length !== 52) {
      throw new HttpError(400, `Invalid user parameter: ${value}`);
    }
    let z32: string;
    try {
      z32 = parsePubky(key).z32;
    } catch {
      throw new HttpError(400, `Invalid user public key: ${key}`);
    }
    // Real homeservers answer an unknown user with a bare "Not Found" (`HttpError::not_found()`).
    if (!ctx.state.users.has(z32)) throw new HttpError(404, 'Not Found');
    const cursor = cursorText === undefined ? 0 : parseUint(cursorText, 'cursor', Number.MAX_SAFE_INTEGER);
    cursors.set(z32, cursor ?? 0);
  }
  return cursors;
}
