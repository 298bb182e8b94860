import { BackupError, type ErrorCategory } from '../errors.js';
/**
 * Why a homeserver request failed, in the terms the sync engine decides on:
 * - `not-found`: 404 (file gone, unknown user, or — see `isMissingRoute` — a route the server lacks)
 * - `rate-limited`: 429; wait `retryAfterMs` if given
 * - `server`: 5xx; retry later
 * - `auth`: 401/403; the session or its capabilities are wrong
 * - `client`: any other 4xx (bad cursor, 409 user exists, 413 too large…): do not retry as is
 * - `network`: no answer, connection reset, timeout, body cut short: retry later
 * - `protocol`: the answer does not follow the wire format (protocol.md §5)
 * - `aborted`: the caller's AbortSignal fired
 */
export type HomeserverErrorKind =
  | 'not-found'
  | 'rate-limited'
  | 'server'
  | 'auth'
  | 'client'
  | 'network'
  | 'protocol'
  | 'aborted';

export interface HomeserverErrorDetails {
  status?: number;
  retryAfterMs?: number;
  /** First ≤ 1 KiB of the error body text. */
  body?: string;
  /** For a 404 from `/events-stream`: whether the homeserver lacks the route (see `isMissingRoute`). */
  missingRoute?: boolean;
  /** A feed page that handed out entries without moving its cursor forward (see `sync/feed.ts`). */
  feedStalled?: boolean;
  cause?: unknown;
}

/** Largest part of an error body kept on the error (and in its message). */
export const MAX_ERROR_BODY_BYTES = 1024;

export class HomeserverError extends BackupError {
  override readonly name = 'HomeserverError';
  readonly status?: number;
  /** From `Retry-After` (delay-seconds or HTTP date), in milliseconds. */
  readonly retryAfterMs?: number;
  /** First ≤ 1 KiB of the error body text. */
  readonly body?: string;
  /**
   * Only for a 404 from `/events-stream`: true when the homeserver has no such route (older than
   * v0.6; the caller should poll `/events/` instead), false when it has it (the user is unknown
   * there). The client decides this with one probe request when it sees such a 404.
   */
  readonly missingRoute?: boolean;
  /** The events feed handed out entries without moving its cursor: a broken homeserver. */
  readonly feedStalled?: boolean;

  constructor(
    readonly kind: HomeserverErrorKind,
    /** The request URL (base URL + path + query), or the base URL for errors without a request. */
    readonly url: string,
    message: string,
    details: HomeserverErrorDetails = {},
  ) {
    super(
      `HOMESERVER_${kind.toUpperCase().replace('-', '_')}`,
      message,
      categoryOf(kind),
      { url, status: details.status ?? null },
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.body !== undefined) this.body = details.body;
    if (details.missingRoute !== undefined) this.missingRoute = details.missingRoute;
    if (details.feedStalled) this.feedStalled = true;
  }
}

function categoryOf(kind: HomeserverErrorKind): ErrorCategory {
  if (kind === 'not-found') return 'not-found';
  if (kind === 'aborted') return 'interrupted';
  if (kind === 'network' || kind === 'server' || kind === 'rate-limited') return 'unavailable';
  return 'invalid';
}

/** The error kind an HTTP status maps to (only for statuses the caller did not expect). */
export function kindOfStatus(status: number): HomeserverErrorKind {
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500) return 'server';
  if (status >= 400) return 'client';
  return 'protocol'; // 1xx/2xx/3xx where the caller expected something else
}

/**
 * `Retry-After` in milliseconds: delay-seconds (`7` → 7000) or an HTTP date (time until then,
 * never negative). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * True when `error` says the homeserver does not have `/events-stream` at all (homeservers before
 * v0.6 answer 404 "Pubky Host is missing" there), so the caller should fall back to polling
 * `/events/`. False for an unknown user — the real homeserver answers that with 404 "Not Found",
 * the emulator with "User not found: <z32>" — and for any other error.
 */
export function isMissingRoute(error: unknown): boolean {
  if (!(error instanceof HomeserverError) || error.kind !== 'not-found') return false;
  if (error.missingRoute !== undefined) return error.missingRoute;
  return !/user not found/i.test(error.body ?? '');
}
