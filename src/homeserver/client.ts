import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Keypair } from '../identity/index.js';
import { signAuthToken } from './auth-token.js';
import { HomeserverError } from './errors.js';
import {
  type EventsPage,
  FEED_START_CURSOR,
  type FeedEntry,
  isCursor,
  parseEventsPage,
  parseSseEvent,
} from './events.js';
import { canonicalBlake3 } from './hash-text.js';
import { parseListing } from './listing.js';
import { type LightResponse, LightTransport } from './node-http.js';
import { Exchange, type RequestSpec, type ResponseBody } from './transport.js';
import { encodePathForUrl, queryString } from './url-path.js';

export type { ResponseBody } from './transport.js';

export interface HomeserverClientOptions {
  /** The homeserver's HTTP(S) origin, e.g. `http://localhost:6286` (a path prefix is kept). */
  baseUrl: string;
  /**
   * Default 30 s. Non-streaming requests must be answered within it; bodies (downloads, the
   * event stream, uploads) use it as an idle timeout: no bytes for that long aborts.
   */
  requestTimeoutMs?: number;
}

/** What GET/HEAD tell about a file (protocol.md §5). */
export interface FileMeta {
  /** Unquoted, as sent (send it back in `If-None-Match`): base64 BLAKE3 on v0.6+, hex before. */
  etag?: string;
  /** The ETag read as a BLAKE3 hash, canonical base64; undefined when it is not one. */
  contentHash?: string;
  size?: number;
  contentType?: string;
  lastModified?: Date;
}

export interface FileResponse extends FileMeta {
  status: 200 | 304;
  /** Streamed, never buffered; empty for 304. Iterate it to the end or `cancel()` it. */
  body: ResponseBody;
}

export interface EventsStreamOptions {
  /**
   * 1..50 users, each with the cursor to continue after (`'0'` = from the start). Without a cursor
   * (`user=<z32>`): from the start, or — with `reverse` — from the newest event.
   */
  users: ReadonlyArray<{ user: string; cursor?: string }>;
  /** Backlog, then tail new events. A dropped connection then throws a `network` error. */
  live?: boolean;
  /** Total events before the homeserver closes the stream. */
  limit?: number;
  /** Newest first (not with `live`). */
  reverse?: boolean;
  /** Path prefix filter, e.g. `/pub/app/`. */
  path?: string;
  signal?: AbortSignal;
}

export interface ListOptions {
  /** Immediate children only; sub-directories once, with a trailing `/`. */
  shallow?: boolean;
  /** Page size, 1..1000; default 1000 (the homeserver's maximum). */
  limit?: number;
  /** Told about listing lines that are not entries of this user (they are not yielded). */
  onSkipped?: (entry: { text: string; reason: string }) => void;
  signal?: AbortSignal;
}

/** A signed-in user on one homeserver: `cookie` is `<z32>=<secret>`, ready for a Cookie header. */
export interface Session {
  user: string;
  cookie: string;
}

export interface PutOptions {
  contentType?: string;
  /** Sent as Content-Length when `body` is streamed (a Uint8Array's length is always sent). */
  contentLength?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_EVENTS_PAGE_LIMIT = 1000;
const MAX_LIST_LIMIT = 1000;
const MAX_STREAM_USERS = 50;
/** Bounds for bodies read whole: 1000 lines of ≤ 4 KiB paths fit easily. */
const MAX_PAGE_BYTES = 16 * 1024 * 1024;
/** One SSE message is a URI, a cursor and a hash: anything near this is not a homeserver. */
const MAX_SSE_BUFFER_CHARS = 1024 * 1024;
const Z32_KEY = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$/;

/**
 * The HTTP client of one homeserver, serving many users: the tenant of each call is sent in the
 * `pubky-host` header. Every failure is a `HomeserverError`; arguments that could never be valid
 * (a malformed cursor, key or path) throw `RangeError`.
 */
export class HomeserverClient {
  readonly baseUrl: string;
  readonly requestTimeoutMs: number;
  /** HEAD and PUT go through node:http (see `node-http.ts`): restore and verify send thousands. */
  private light: LightTransport | undefined;

  constructor(options: HomeserverClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new RangeError(`Not a homeserver URL: ${JSON.stringify(options.baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RangeError(`A homeserver URL is http(s)://, got ${JSON.stringify(options.baseUrl)}`);
    }
    this.baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * `GET /events/?cursor=&limit=`: one page of the homeserver-wide feed, after `cursor`. Lines this
   * client cannot read come back in `skipped` (see `parseEventsPage`); the caller checks progress.
   */
  async eventsPage(cursor: string, limit: number, signal?: AbortSignal): Promise<EventsPage> {
    assertCursor(cursor);
    assertLimit(limit, MAX_EVENTS_PAGE_LIMIT);
    // `0` is refused by homeservers before v0.6 (timestamp cursors); this start is read by all.
    const target = `/events/${queryString([
      ['cursor', cursor === '0' ? FEED_START_CURSOR : cursor],
      ['limit', String(limit)],
    ])}`;
    const exchange = await this.send({ method: 'GET', target, label: `GET ${target}`, signal });
    if (exchange.status !== 200) throw await exchange.statusError();
    return parseEventsPage(await exchange.text(MAX_PAGE_BYTES));
  }

  /**
   * `GET /events-stream` (SSE) for up to 50 users, each from its own cursor. Yields events as they
   * arrive (constant memory); ends when a non-live stream is complete or when `signal` aborts.
   * A non-200 answer throws before the first event (404: see `isMissingRoute`); a live stream
   * that drops or ends throws a `network` error: reconnect from the last cursor seen. Messages
   * this client cannot read are yielded as `SkippedEntry` (never thrown: see `parseSseEvent`).
   */
  async *eventsStream(options: EventsStreamOptions): AsyncGenerator<FeedEntry> {
    const { users, live = false, reverse = false, limit, path, signal } = options;
    if (users.length < 1 || users.length > MAX_STREAM_USERS) {
      throw new RangeError(`An event stream is for 1 to ${MAX_STREAM_USERS} users, got ${users.length}.`);
    }
    for (const { user, cursor } of users) {
      assertUser(user);
      if (cursor !== undefined) assertCursor(cursor);
    }
    if (live && reverse) throw new RangeError('A live event stream cannot be reversed.');
    if (limit !== undefined) assertLimit(limit, 65_535);
    const target = `/events-stream${queryString([
      ...users.map(
        ({ user, cursor }) => ['user', cursor === undefined ? user : `${user}:${cursor}`] as const,
      ),
      ['limit', limit === undefined ? undefined : String(limit)],
      ['reverse', reverse ? 'true' : undefined],
      ['live', live ? 'true' : undefined],
      ['path', path],
    ])}`;
    const label = `GET /events-stream (${users.length} user${users.length === 1 ? '' : 's'})`;

    let exchange: Exchange;
    try {
      exchange = await this.send({ method: 'GET', target, label, signal });
    } catch (error) {
      if (isAborted(error)) return;
      throw error;
    }
    let received = 0;
    try {
      if (exchange.status === 404) {
        throw await exchange.statusError({ missingRoute: await this.probeMissingStreamRoute(signal) });
      }
      if (exchange.status !== 200) throw await exchange.statusError();
      const contentType = exchange.header('content-type') ?? '';
      if (!contentType.startsWith('text/event-stream')) {
        throw new HomeserverError(
          'protocol',
          exchange.url,
          `Homeserver ${this.baseUrl} answered ${label} with ${contentType || 'no Content-Type'}, not an event stream.`,
        );
      }
      const queue: EventSourceMessage[] = [];
      let failure: Error | undefined;
      const parser = createParser({
        maxBufferSize: MAX_SSE_BUFFER_CHARS,
        onEvent: (message) => queue.push(message),
        onError: (error) => {
          if (error.type === 'max-buffer-size-exceeded') {
            failure = new HomeserverError(
              'protocol',
              exchange.url,
              `Event stream message too large: ${error.message}`,
            );
          }
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of exchange.body()) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (failure) throw failure;
        const messages = queue.splice(0);
        for (const message of messages) {
          received++;
          yield parseSseEvent(message);
        }
      }
    } catch (error) {
      if (isAborted(error)) return;
      throw error;
    } finally {
      await exchange.cancel();
    }
    if (live && !(limit !== undefined && received >= limit)) {
      throw new HomeserverError(
        'network',
        exchange.url,
        `Homeserver ${this.baseUrl} closed the live event stream after ${received} events; reconnect from the last cursor.`,
      );
    }
  }

  /**
   * `GET <path>` of the user's file, streamed. 304 when `ifNoneMatch` (an ETag) still matches.
   * `keepEscapes`: send `%XX` in the path as is (see `encodePathForUrl`).
   */
  async get(
    user: string,
    path: string,
    options: { signal?: AbortSignal; ifNoneMatch?: string; keepEscapes?: boolean } = {},
  ): Promise<FileResponse> {
    assertUser(user);
    assertFilePath(path);
    const headers: Record<string, string> = { 'pubky-host': user };
    if (options.ifNoneMatch !== undefined) headers['if-none-match'] = quoteEtag(options.ifNoneMatch);
    const exchange = await this.send({
      method: 'GET',
      target: encodePathForUrl(path, { keepEscapes: options.keepEscapes }),
      label: `GET ${path}`,
      headers,
      signal: options.signal,
    });
    if (exchange.status === 200) return { status: 200, ...fileMeta(exchange), body: exchange.body() };
    if (exchange.status === 304) {
      await exchange.cancel();
      return { status: 304, ...fileMeta(exchange), body: emptyBody() };
    }
    throw await exchange.statusError();
  }

  /** `HEAD <path>`: the file's ETag, size, type and modification time. */
  async head(user: string, path: string, signal?: AbortSignal): Promise<FileMeta> {
    assertUser(user);
    assertFilePath(path);
    const response = await this.sendLight({
      method: 'HEAD',
      target: encodePathForUrl(path),
      label: `HEAD ${path}`,
      headers: { 'pubky-host': user },
      signal,
    });
    return fileMeta(response);
  }

  /**
   * Every entry under `dir` (which ends with `/`), as decoded paths like `/pub/a/b` (shallow:
   * sub-directories end with `/`). Pages with the last entry as the next cursor until a short
   * page. A directory with nothing in it (404 "Directory Not Found") yields nothing.
   */
  async *list(user: string, dir: string, options: ListOptions = {}): AsyncGenerator<string> {
    assertUser(user);
    if (!dir.startsWith('/') || !dir.endsWith('/')) {
      throw new RangeError(`A directory path starts and ends with "/": ${JSON.stringify(dir)}`);
    }
    const limit = options.limit ?? MAX_LIST_LIMIT;
    assertLimit(limit, MAX_LIST_LIMIT);
    let cursor: string | undefined;
    for (;;) {
      const target = `${encodePathForUrl(dir)}${queryString([
        ['limit', String(limit)],
        ['shallow', options.shallow ? 'true' : undefined],
        ['cursor', cursor],
      ])}`;
      const exchange = await this.send({
        method: 'GET',
        target,
        label: `GET ${dir} (listing)`,
        headers: { 'pubky-host': user },
        signal: options.signal,
      });
      if (exchange.status === 404) {
        const error = await exchange.statusError();
        if (/directory not found/i.test(error.body ?? '')) return;
        throw error;
      }
      if (exchange.status !== 200) throw await exchange.statusError();
      const page = parseListing(await exchange.text(MAX_PAGE_BYTES), user);
      for (const skipped of page.skipped) options.onSkipped?.(skipped);
      yield* page.paths;
      const lines = page.lines;
      const last = lines.at(-1);
      if (lines.length < limit || last === undefined) return;
      if (last === cursor) {
        throw new HomeserverError('protocol', exchange.url, `Listing did not advance past ${last}`);
      }
      cursor = last;
    }
  }

  /** `POST /signup[?signup_token=]` with a root-capability AuthToken; the new user's session. */
  async signup(
    keypair: Keypair,
    options: { signupToken?: string; signal?: AbortSignal } = {},
  ): Promise<Session> {
    const target = `/signup${queryString([['signup_token', options.signupToken]])}`;
    return this.authenticate(keypair, target, 'POST /signup', options.signal);
  }

  /** `POST /session` with a root-capability AuthToken of an existing user. */
  async signin(keypair: Keypair, options: { signal?: AbortSignal } = {}): Promise<Session> {
    return this.authenticate(keypair, '/session', 'POST /session', options.signal);
  }

  /**
   * `PUT <path>` (→ 201) as the session's user; the body is streamed (chunked when neither a
   * Uint8Array nor `contentLength` gives its length). A body that throws aborts the request: the
   * homeserver stores nothing, and the `HomeserverError` has the body's error as its `cause`.
   */
  async put(
    session: Session,
    path: string,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<void> {
    assertFilePath(path);
    const headers = this.sessionHeaders(session);
    if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    await this.sendLight({
      method: 'PUT',
      target: encodePathForUrl(path),
      label: `PUT ${path}`,
      headers,
      body,
      contentLength: options.contentLength,
      signal: options.signal,
    });
  }

  /** `DELETE <path>` (→ 204) as the session's user; a missing file is a `not-found` error. */
  async delete(session: Session, path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    assertFilePath(path);
    const exchange = await this.send({
      method: 'DELETE',
      target: encodePathForUrl(path),
      label: `DELETE ${path}`,
      headers: this.sessionHeaders(session),
      signal: options.signal,
    });
    if (exchange.status !== 204 && exchange.status !== 200) throw await exchange.statusError();
    await exchange.cancel();
  }

  private async authenticate(
    keypair: Keypair,
    target: string,
    label: string,
    signal: AbortSignal | undefined,
  ): Promise<Session> {
    const user = keypair.publicKey.z32;
    const exchange = await this.send({
      method: 'POST',
      target,
      label,
      headers: { 'content-type': 'application/octet-stream' },
      body: signAuthToken(keypair),
      signal,
    });
    if (exchange.status !== 200) throw await exchange.statusError();
    await exchange.cancel();
    const cookie = exchange
      .setCookies()
      .map((line) => line.split(';')[0]?.trim() ?? '')
      .find((pair) => pair.startsWith(`${user}=`) && pair.length > user.length + 1);
    if (cookie === undefined) {
      throw new HomeserverError(
        'protocol',
        exchange.url,
        `Homeserver ${this.baseUrl} answered ${label} without a session cookie for ${user}.`,
      );
    }
    return { user, cookie };
  }

  private sessionHeaders(session: Session): Record<string, string> {
    assertUser(session.user);
    return { 'pubky-host': session.user, cookie: session.cookie };
  }

  /**
   * After a 404 from `/events-stream`: does the route exist? Asked without parameters, a homeserver
   * that has it answers 400 ("user parameter is required"); an older one 404 ("Pubky Host is
   * missing"), as it sees a tenant path. Undefined when the probe says neither.
   */
  private async probeMissingStreamRoute(signal?: AbortSignal): Promise<boolean | undefined> {
    try {
      const probe = await this.send({
        method: 'GET',
        target: '/events-stream',
        label: 'GET /events-stream',
        signal,
      });
      await probe.cancel();
      if (probe.status === 404) return true;
      if (probe.status === 400 || probe.status === 200) return false;
      return undefined;
    } catch {
      return undefined;
    }
  }

  private sendLight(spec: Omit<RequestSpec, 'baseUrl' | 'timeoutMs'>): Promise<LightResponse> {
    this.light ??= new LightTransport(this.baseUrl);
    return this.light.send({ ...spec, baseUrl: this.baseUrl, timeoutMs: this.requestTimeoutMs });
  }

  private send(spec: Omit<RequestSpec, 'baseUrl' | 'timeoutMs'>): Promise<Exchange> {
    return Exchange.send({ ...spec, baseUrl: this.baseUrl, timeoutMs: this.requestTimeoutMs });
  }
}

function fileMeta(exchange: Pick<Exchange, 'header'>): FileMeta {
  const meta: FileMeta = {};
  const etag = exchange.header('etag');
  if (etag !== undefined) {
    meta.etag = etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
    const hash = canonicalBlake3(meta.etag);
    if (hash !== undefined) meta.contentHash = hash;
  }
  const length = exchange.header('content-length');
  if (length !== undefined && /^\d+$/.test(length)) meta.size = Number(length);
  const contentType = exchange.header('content-type');
  if (contentType !== undefined) meta.contentType = contentType;
  const modified = exchange.header('last-modified');
  if (modified !== undefined) {
    const time = parseHttpDate(modified);
    if (!Number.isNaN(time)) meta.lastModified = new Date(time);
  }
  return meta;
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};
const IMF_FIXDATE = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;

/** An HTTP date in ms: the usual IMF-fixdate read directly (`Date.parse` costs ~10 µs), others by `Date.parse`. */
function parseHttpDate(text: string): number {
  const match = IMF_FIXDATE.exec(text);
  const month = match ? MONTHS[match[2] as string] : undefined;
  if (!match || month === undefined) return Date.parse(text);
  const [, day, , year, hours, minutes, secs] = match.map(Number) as number[];
  return Date.UTC(year as number, month, day, hours, minutes, secs);
}

function emptyBody(): ResponseBody {
  return {
    async *[Symbol.asyncIterator]() {},
    cancel: async () => {},
  };
}

function quoteEtag(etag: string): string {
  return etag.startsWith('"') || etag.startsWith('W/') ? etag : `"${etag}"`;
}

function isAborted(error: unknown): boolean {
  return error instanceof HomeserverError && error.kind === 'aborted';
}

function assertUser(user: string): void {
  if (!Z32_KEY.test(user)) throw new RangeError(`Not a z32 public key: ${JSON.stringify(user)}`);
}

function assertCursor(cursor: string): void {
  if (!isCursor(cursor)) {
    throw new RangeError(`A cursor is a decimal u64 or a timestamp cursor, got ${JSON.stringify(cursor)}`);
  }
}

function assertLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new RangeError(`limit must be an integer from 1 to ${max}, got ${limit}`);
  }
}

function assertFilePath(path: string): void {
  if (path.endsWith('/')) throw new RangeError(`A file path does not end with "/": ${JSON.stringify(path)}`);
  encodePathForUrl(path); // validates the rest
}
