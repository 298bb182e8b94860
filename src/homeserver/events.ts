import { canonicalBlake3 } from './hash-text.js';

/**
 * One entry of a homeserver's events feed (protocol.md §5): `/events/` lines and
 * `/events-stream` SSE messages both become this.
 */
export interface FeedEvent {
  type: 'PUT' | 'DEL';
  /** The URI exactly as the homeserver sent it, normally `pubky://<owner>/pub/…`. */
  uri: string;
  /** The owner's z32 key, when the URI's authority is one (52 z-base-32 characters). */
  owner?: string;
  /**
   * Everything after `pubky://<owner>` (or after the authority when it is not a key), verbatim:
   * already decoded by the homeserver, never to be percent-decoded again. Not validated here:
   * the sync engine decides what is safe to store.
   */
  path: string;
  /** The event's cursor (SSE only; `/events/` lines carry none). See `isCursor`. */
  cursor?: string;
  /** BLAKE3 of the content, canonical base64 (SSE PUT only; hex on older homeservers, converted). */
  contentHash?: string;
}

/**
 * A feed line or SSE message this client could not use. It is reported (activity log, `status`),
 * never fatal: one bad line must not halt a backup. `cursor` is set when the message still said
 * where it stands in the feed, so reading moves past it.
 */
export interface SkippedEntry {
  type: 'SKIPPED';
  /** The line or message, shortened to 200 characters. */
  text: string;
  reason: string;
  cursor?: string;
}

/** What a feed yields: an event, or something set aside. */
export type FeedEntry = FeedEvent | SkippedEntry;

/** One parsed `/events/` page. */
export interface EventsPage {
  events: FeedEvent[];
  skipped: SkippedEntry[];
  /** The page's trailing `cursor:` line; undefined when it has none (an empty page). */
  cursor?: string;
}

const SCHEME = 'pubky://';
const Z32_KEY = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}(?=\/|$)/;
const DECIMAL = /^\d+$/;
/**
 * Cursors before v0.5 were `pubky_timestamp::Timestamp` texts: 8 big-endian bytes of microseconds
 * in Crockford base32, 13 characters (`0033RCZXVEPNG`). v0.5+ still accepts them in `?cursor=`.
 */
const TIMESTAMP_CURSOR = /^[0-9A-HJKMNP-TV-Z]{13}$/;
const U64_LIMIT = 2n ** 64n;
const ZERO_HASH = Buffer.alloc(32).toString('base64');
/** The start of the feed in the cursor style every generation accepts (v0.6+ reads it as id 0). */
export const FEED_START_CURSOR = '0000000000000';

/**
 * True for a cursor a homeserver hands out or accepts: a decimal u64 event id (v0.5+), or a
 * legacy 13-character timestamp cursor (earlier homeservers).
 */
export function isCursor(text: string): boolean {
  return (DECIMAL.test(text) && BigInt(text) < U64_LIMIT) || TIMESTAMP_CURSOR.test(text);
}

/** True for a decimal u64 event id (the cursor style of v0.5+ homeservers). */
export function isEventId(text: string): boolean {
  return DECIMAL.test(text) && BigInt(text) < U64_LIMIT;
}

/**
 * Orders two cursors of the same style: ids numerically (beyond 2^53), timestamp cursors by text
 * (fixed-width base32 of a big-endian number sorts like the number). Undefined when the styles
 * differ: such cursors cannot be ordered.
 */
export function compareCursors(a: string, b: string): number | undefined {
  if (isEventId(a) && isEventId(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (TIMESTAMP_CURSOR.test(a) && TIMESTAMP_CURSOR.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/**
 * One `/events/` page body (protocol.md §5): lines `PUT pubky://<z32>/pub/…` or `DEL …`, split at
 * the first space only (paths may hold spaces), then a `cursor: N` line. Never throws: unknown
 * verbs, bad URIs and unreadable cursor lines are set aside as `skipped`; a `cursor:` line with no
 * value counts as none; with several cursor lines the last readable one wins.
 */
export function parseEventsPage(text: string): EventsPage {
  const page: EventsPage = { events: [], skipped: [] };
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    if (line.startsWith('cursor:')) {
      const value = line.slice('cursor:'.length).trim();
      if (value === '') continue;
      if (isCursor(value)) page.cursor = value;
      else page.skipped.push(skipped(line, 'unreadable cursor line'));
      continue;
    }
    const entry = parseFeedLine(line);
    if (entry.type === 'SKIPPED') page.skipped.push(entry);
    else page.events.push(entry);
  }
  return page;
}

/** One `/events/` event line; anything else comes back as a `SkippedEntry`. Never throws. */
export function parseFeedLine(line: string): FeedEntry {
  const space = line.indexOf(' ');
  const verb = space === -1 ? line : line.slice(0, space);
  if (verb !== 'PUT' && verb !== 'DEL') return skipped(line, 'unknown event line');
  const uri = parseUri(line.slice(space + 1));
  if (!uri) return skipped(line, `event URI does not start with ${SCHEME}`);
  return { type: verb, ...uri };
}

/**
 * One `/events-stream` SSE message: `event: PUT|DEL`, data lines = the URI, `cursor: N` and (PUT)
 * `content_hash: <base64 or hex>`. Unknown `key: value` lines are ignored (newer homeservers add
 * some). Never throws: an unknown event type, a bad URI or a missing cursor make a `SkippedEntry`
 * (with the cursor when there was one); an unreadable content_hash is dropped (the file is then
 * verified by its ETag alone).
 */
export function parseSseEvent(message: { event?: string | undefined; data: string }): FeedEntry {
  const [first = '', ...fields] = message.data.split('\n');
  let cursor: string | undefined;
  let contentHash: string | undefined;
  for (const field of fields) {
    const colon = field.indexOf(':');
    if (colon === -1) continue;
    const key = field.slice(0, colon).trim();
    const value = field.slice(colon + 1).trim();
    if (key === 'cursor' && isCursor(value)) cursor = value;
    else if (key === 'content_hash') contentHash = canonicalBlake3(value);
  }
  // Events migrated from LMDB (v0.6/v0.7) carry an all-zero hash: "unknown", not a hash to check.
  if (contentHash === ZERO_HASH) contentHash = undefined;
  const text = `${message.event ?? ''} ${message.data}`;
  const type = message.event;
  const withCursor = (entry: SkippedEntry): SkippedEntry => (cursor ? { ...entry, cursor } : entry);
  if (type !== 'PUT' && type !== 'DEL') return withCursor(skipped(text, 'unknown event type'));
  const uri = parseUri(first);
  if (!uri) return withCursor(skipped(text, `event URI does not start with ${SCHEME}`));
  if (cursor === undefined) return skipped(text, 'event without a readable cursor');
  const event: FeedEvent = { type, ...uri, cursor };
  if (type === 'PUT' && contentHash !== undefined) event.contentHash = contentHash;
  return event;
}

function parseUri(uri: string): Pick<FeedEvent, 'uri' | 'owner' | 'path'> | undefined {
  if (!uri.startsWith(SCHEME)) return undefined;
  const rest = uri.slice(SCHEME.length);
  const key = Z32_KEY.exec(rest)?.[0];
  if (key !== undefined) return { uri, owner: key, path: rest.slice(key.length) };
  const slash = rest.indexOf('/');
  return { uri, path: slash === -1 ? '' : rest.slice(slash) };
}

function skipped(text: string, reason: string): SkippedEntry {
  // One line in logs and `status`: an SSE message's line breaks shown as ⏎.
  const shown = text.replace(/\r?\n/g, ' ⏎ ');
  return { type: 'SKIPPED', text: shown.length > 200 ? `${shown.slice(0, 200)}…` : shown, reason };
}
