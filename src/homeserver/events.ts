import { HomeserverError } from './errors.js';

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
  /** Decimal u64 event id (SSE only). A string: ids may exceed 2^53. */
  cursor?: string;
  /** base64 (standard, padded) BLAKE3 of the content (SSE PUT only). */
  contentHash?: string;
}

const SCHEME = 'pubky://';
const Z32_KEY = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}(?=\/|$)/;
const DECIMAL = /^\d+$/;
const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;

/** True for a decimal u64 cursor text (digits only; compare cursors with `compareCursors`). */
export function isCursor(text: string): boolean {
  return DECIMAL.test(text) && BigInt(text) < 2n ** 64n;
}

/** Orders two cursors numerically without converting them to JS numbers. */
export function compareCursors(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * One `/events/` line, `PUT pubky://<z32>/pub/…` or `DEL …`, split at the first space only (the
 * path may contain spaces). The trailing `cursor: N` line is not an event: see `parseFeedCursor`.
 * Unknown verbs throw a `protocol` error rather than being skipped, so no change is lost silently.
 */
export function parseFeedLine(line: string, source = '/events/'): FeedEvent {
  const space = line.indexOf(' ');
  const verb = space === -1 ? line : line.slice(0, space);
  if (verb !== 'PUT' && verb !== 'DEL') {
    throw protocolError(source, `Unknown event line in the homeserver's feed: ${quote(line)}`);
  }
  return { type: verb, ...parseUri(line.slice(space + 1), source) };
}

/** The cursor of a `cursor: N` feed line, or undefined when the line is something else. */
export function parseFeedCursor(line: string, source = '/events/'): string | undefined {
  if (!line.startsWith('cursor:')) return undefined;
  const cursor = line.slice('cursor:'.length).trim();
  if (!isCursor(cursor))
    throw protocolError(source, `Invalid cursor line in the homeserver's feed: ${quote(line)}`);
  return cursor;
}

/**
 * One `/events-stream` SSE message: `event: PUT|DEL`, data lines = the URI, `cursor: N` and (PUT)
 * `content_hash: <base64>`. Unknown `key: value` lines are ignored (newer homeservers may add
 * some); a missing or malformed cursor, or an unknown event type, throws a `protocol` error.
 */
export function parseSseEvent(
  message: { event?: string | undefined; data: string },
  source = '/events-stream',
): FeedEvent {
  const type = message.event;
  if (type !== 'PUT' && type !== 'DEL') {
    throw protocolError(source, `Unknown event type in the homeserver's event stream: ${quote(type ?? '')}`);
  }
  const [uri = '', ...fields] = message.data.split('\n');
  const event: FeedEvent = { type, ...parseUri(uri, source) };
  for (const field of fields) {
    const colon = field.indexOf(':');
    if (colon === -1) continue;
    const key = field.slice(0, colon);
    const value = field.slice(colon + 1).trim();
    if (key === 'cursor') {
      if (!isCursor(value)) throw protocolError(source, `Invalid cursor in event stream: ${quote(field)}`);
      event.cursor = value;
    } else if (key === 'content_hash' && type === 'PUT') {
      if (!BASE64_32_BYTES.test(value)) {
        throw protocolError(source, `Invalid content_hash in event stream: ${quote(field)}`);
      }
      event.contentHash = value;
    }
  }
  if (event.cursor === undefined) {
    throw protocolError(source, `Event without a cursor in event stream: ${quote(message.data)}`);
  }
  return event;
}

function parseUri(uri: string, source: string): Pick<FeedEvent, 'uri' | 'owner' | 'path'> {
  if (!uri.startsWith(SCHEME)) {
    throw protocolError(source, `Event URI does not start with ${SCHEME}: ${quote(uri)}`);
  }
  const rest = uri.slice(SCHEME.length);
  const key = Z32_KEY.exec(rest)?.[0];
  if (key !== undefined) return { uri, owner: key, path: rest.slice(key.length) };
  const slash = rest.indexOf('/');
  return { uri, path: slash === -1 ? '' : rest.slice(slash) };
}

function protocolError(source: string, message: string): HomeserverError {
  return new HomeserverError('protocol', source, message);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
