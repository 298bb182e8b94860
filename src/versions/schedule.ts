import { BackupStore, KeyLayout } from '../store/index.js';
import { sleep } from '../util/sleep.js';
import { pruneVersions } from './prune.js';

const DAY_MS = 86_400_000;

/**
 * Applies the versions retention (`keepDays`; 0 = keep all) to every key once a day while `signal`
 * is live — the running sync's share of Syncthing's versioner cleanup.
 */
export async function runVersionRetention(options: {
  dataDir: string;
  pubkys: () => string[];
  keepDays: number;
  signal: AbortSignal;
  everyMs?: number;
  onError?: (pubky: string, error: Error) => void;
}): Promise<void> {
  if (options.keepDays === 0) return;
  while (!options.signal.aborted) {
    for (const pubky of options.pubkys()) {
      if (options.signal.aborted) return;
      const layout = new KeyLayout(options.dataDir, pubky);
      await pruneVersions(BackupStore.openFs(layout.keyDir), layout, { keepDays: options.keepDays }).catch(
        (error: Error) => options.onError?.(pubky, error),
      );
    }
    await sleep(options.everyMs ?? DAY_MS, options.signal).catch(() => {});
  }
}
