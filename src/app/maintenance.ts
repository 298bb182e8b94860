import type { Config } from '../config/index.js';
import { type CreatedSnapshot, removeSnapshotLeftovers, runSnapshotSchedule } from '../snapshot/index.js';
import { KeyLayout } from '../store/index.js';
import { runVersionRetention } from '../versions/index.js';

/**
 * What a running service does besides syncing: scheduled snapshots (after each key's first
 * completed catch-up, never empty), the versions retention (daily, through each key's sync), and
 * removing what interrupted snapshots left behind. Resolves when `signal` aborts.
 */
export async function runMaintenance(options: {
  dataDir: string;
  config: Config;
  tool: string;
  pubkys: () => string[];
  pruneVersions: (pubky: string, keepDays: number) => Promise<unknown>;
  signal: AbortSignal;
  onSnapshot?: (
    pubky: string,
    created: Pick<CreatedSnapshot, 'file' | 'files' | 'bytes'> & { damaged: number },
  ) => void;
  onError?: (pubky: string, what: string, error: Error) => void;
}): Promise<void> {
  for (const pubky of options.pubkys()) {
    await removeSnapshotLeftovers(new KeyLayout(options.dataDir, pubky)).catch(() => []);
  }
  await Promise.all([
    runSnapshotSchedule({
      dataDir: options.dataDir,
      pubkys: options.pubkys,
      config: options.config.snapshots,
      tool: options.tool,
      signal: options.signal,
      onSnapshot: (pubky, created) =>
        options.onSnapshot?.(pubky, {
          file: created.file,
          files: created.files,
          bytes: created.bytes,
          damaged: created.damaged.length,
        }),
      onError: (pubky, error) => options.onError?.(pubky, 'snapshot', error),
    }),
    runVersionRetention({
      pubkys: options.pubkys,
      prune: options.pruneVersions,
      keepDays: options.config.versions.keepDays,
      signal: options.signal,
      onError: (pubky, error) => options.onError?.(pubky, 'versions retention', error),
    }),
  ]);
}
