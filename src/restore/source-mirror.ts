import { existsSync } from 'node:fs';
import { BackupStore, FileIndex, type KeyLayout, RetryQueue, storePathOf } from '../store/index.js';
import { RestoreError } from './errors.js';
import type { RestoreSource, SourceFile } from './source.js';

const STAT_CONCURRENCY = 16;

/**
 * The key's mirror (`keys/<z32>/data/`) as a restore source: every file the index vouches for,
 * with its BLAKE3 (names mapped back with the store's mapping: `%2E`, long names). A file missing
 * from the disk or of another size than indexed is `unusable` (run `check --repair`); files still
 * in the retry queue are not in the backup yet, and said in `notes`. Reads no network.
 */
export async function openMirrorSource(layout: KeyLayout): Promise<RestoreSource> {
  if (!existsSync(layout.keyDir)) {
    throw new RestoreError(
      'KEY_NOT_ADDED',
      `${layout.z32} is not backed up in this data folder: restore it from a snapshot file or a folder instead.`,
    );
  }
  const store = BackupStore.openFs(layout.keyDir);
  const index = await FileIndex.open(layout.indexFile);
  const entries = [...index.entries()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const files: SourceFile[] = [];
  const unusable: RestoreSource['unusable'] = [];
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const entry = entries[next++] as (typeof entries)[number];
      const info = await store.fileInfo(storePathOf(entry.path.slice(1).split('/')));
      if (!info) {
        unusable.push({
          path: entry.path,
          reason: 'missing from the backup on this disk (a check with repair fetches it again)',
        });
      } else if (info.size !== entry.size) {
        unusable.push({
          path: entry.path,
          reason: `damaged in the backup: ${info.size} bytes, ${entry.size} backed up (a check with repair fetches it again)`,
        });
      } else {
        const at = info.path;
        files.push({
          path: entry.path,
          size: entry.size,
          blake3: entry.blake3,
          read: () => store.read(at),
          readWhole: () => store.readWhole(at),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, entries.length) }, worker));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const notes: string[] = [];
  const pending = (await RetryQueue.open(layout.retryFile).catch(() => undefined))?.all() ?? [];
  if (pending.length > 0) {
    notes.push(
      `${pending.length} files are not in the backup yet (waiting for a retry), e.g. ${pending[0]?.path}; they cannot be restored from it`,
    );
  }
  return { kind: 'mirror', location: `${layout.keyDir}/data`, files, unusable, notes, close: async () => {} };
}
