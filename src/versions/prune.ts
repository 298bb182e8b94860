import type { BackupStore, FileIndex } from '../store/index.js';
import { type FileVersion, listVersions } from './list.js';

export interface VersionPrunePlan {
  remove: FileVersion[];
  keep: number;
}

/**
 * Versions older than `keepDays` days at `now` (Syncthing's "simple" versioner with a max age);
 * `keepDays` 0 keeps everything.
 */
export function planVersionPrune(
  versions: readonly FileVersion[],
  keepDays: number,
  now: Date,
): VersionPrunePlan {
  if (keepDays === 0) return { remove: [], keep: versions.length };
  const cutoff = now.getTime() - keepDays * 86_400_000;
  const remove = versions.filter((v) => v.versionedAt.getTime() < cutoff);
  return { remove, keep: versions.length - remove.length };
}

/**
 * Deletes the versions past retention (unless `dryRun`), and their lines of the versions index
 * (the one instance that process keeps: the sync's own while it runs); returns what it removed (or
 * would).
 */
export async function pruneVersions(
  store: BackupStore,
  versionsIndex: FileIndex,
  options: { keepDays: number; now?: Date; dryRun?: boolean },
): Promise<VersionPrunePlan> {
  const plan = planVersionPrune(await listVersions(store), options.keepDays, options.now ?? new Date());
  if (options.dryRun || plan.remove.length === 0) return plan;
  for (const version of plan.remove) {
    await store.deleteFile(version.storePath);
    versionsIndex.delete(version.storePath);
  }
  await versionsIndex.flush();
  return plan;
}
