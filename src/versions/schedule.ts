import { sleep } from '../util/sleep.js';

const DAY_MS = 86_400_000;

/**
 * Applies the versions retention (`keepDays`; 0 = keep all) to every key once a day while `signal`
 * is live — the running sync's share of Syncthing's versioner cleanup. `prune` does it for one key
 * (through the key's sync, which owns its versions journal).
 */
export async function runVersionRetention(options: {
  pubkys: () => string[];
  prune: (pubky: string, keepDays: number) => Promise<unknown>;
  /** Read every round: a changed setting applies at the next round (the service also prunes at once). */
  keepDays: () => number;
  signal: AbortSignal;
  everyMs?: number;
  onError?: (pubky: string, error: Error) => void;
}): Promise<void> {
  while (!options.signal.aborted) {
    const keepDays = options.keepDays();
    for (const pubky of keepDays === 0 ? [] : options.pubkys()) {
      if (options.signal.aborted) return;
      await options.prune(pubky, keepDays).catch((error: Error) => options.onError?.(pubky, error));
    }
    await sleep(options.everyMs ?? DAY_MS, options.signal).catch(() => {});
  }
}
