/** Backoff for files in the retry queue: 30 s, 1 min, 2 min … capped at 1 h. */
export function nextAttemptDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/** Attempts within one download before the file goes to the retry queue. */
export const IMMEDIATE_ATTEMPTS = 3;

/** Longest Retry-After we wait for in place; longer ones go to the retry queue. */
export const MAX_INLINE_RETRY_AFTER_MS = 60_000;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
