import { type HomeserverClient, isMissingRoute } from '../homeserver/index.js';
import { sleep } from './retry-policy.js';

/** Users per `/events-stream` connection, the homeserver's limit. */
export const MAX_USERS_PER_STREAM = 50;

export interface LiveWatchOptions {
  client: HomeserverClient;
  /** The users to watch, with the cursor to start each from (read again at every reconnect). */
  users: () => Array<{ user: string; cursor: string }>;
  /** Called for every event of a user (the caller debounces and catches up). */
  onActivity: (user: string) => void;
  /** Called once if the homeserver has no live stream: the caller keeps polling. */
  onUnsupported?: () => void;
  signal: AbortSignal;
}

/**
 * Holds a live `/events-stream` open and reports activity; reconnects with backoff when it drops.
 * Events are only wake-ups here: the key's own catch-up reads them in bounded batches, so a burst
 * of writes never piles up in memory.
 */
export async function watchLive(options: LiveWatchOptions): Promise<void> {
  let backoffMs = 1000;
  while (!options.signal.aborted) {
    const users = options.users();
    if (users.length === 0) return;
    try {
      for await (const event of options.client.eventsStream({ users, live: true, signal: options.signal })) {
        backoffMs = 1000;
        // Unreadable entries wake nobody: the poll still catches their user up.
        if (event.type !== 'SKIPPED' && event.owner) options.onActivity(event.owner);
      }
    } catch (error) {
      if (options.signal.aborted) return;
      if (isMissingRoute(error)) {
        options.onUnsupported?.();
        return;
      }
    }
    await sleep(backoffMs, options.signal).catch(() => {});
    backoffMs = Math.min(backoffMs * 2, 30_000);
  }
}
