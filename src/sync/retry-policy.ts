import { HomeserverError } from '../homeserver/index.js';
import { sleep } from '../util/sleep.js';

export { sleep };

/** Backoff for files in the retry queue: 30 s, 1 min, 2 min … capped at 1 h. */
export function nextAttemptDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/** Attempts within one download before the file goes to the retry queue. */
export const IMMEDIATE_ATTEMPTS = 3;

/** Longest Retry-After we wait for in place; longer ones go to the retry queue. */
export const MAX_INLINE_RETRY_AFTER_MS = 60_000;

/** Attempts of one feed request within a run (the first try included). */
export const FEED_ATTEMPTS = 5;
/** Attempts when the homeserver cannot be connected to at all: fail fast, the run exits 2. */
export const UNREACHABLE_ATTEMPTS = 3;

/**
 * Runs one feed request, retrying what a homeserver's bad minute causes — 5xx, 429 (waiting as
 * `Retry-After` says, up to 60 s), a reset or stalled connection — with backoff 0.5 s, 1 s, 2 s, 4 s.
 * A refused connection is tried 3 times only, so a dead homeserver ends the run within seconds.
 * Anything else (4xx, protocol errors, abort) is thrown at once.
 */
export async function withFeedRetries<T>(
  task: () => Promise<T>,
  options: { signal?: AbortSignal; onRetry?: (error: HomeserverError, waitMs: number) => void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      const wait = feedRetryDelay(error, attempt);
      if (wait === undefined || options.signal?.aborted) throw error;
      options.onRetry?.(error as HomeserverError, wait);
      await sleep(wait, options.signal);
    }
  }
}

/** How long to wait before asking the feed again, or undefined to give up now. */
export function feedRetryDelay(error: unknown, attempt: number): number | undefined {
  if (!(error instanceof HomeserverError)) return undefined;
  const limit = isUnreachable(error) ? UNREACHABLE_ATTEMPTS : FEED_ATTEMPTS;
  if (attempt >= limit) return undefined;
  const backoff = 500 * 2 ** (attempt - 1);
  if (error.kind === 'rate-limited') {
    const after = error.retryAfterMs ?? backoff;
    return after <= MAX_INLINE_RETRY_AFTER_MS ? Math.max(after, 100) : undefined;
  }
  if (error.kind === 'server' || error.kind === 'network') return error.retryAfterMs ?? backoff;
  return undefined;
}

/** Connection refused, host unknown or unreachable: nobody answers at that address. */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof HomeserverError) || error.kind !== 'network') return false;
  let current: unknown = error.cause;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code && UNREACHABLE_CODES.has(code)) return true;
    current = current.cause;
  }
  return false;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
