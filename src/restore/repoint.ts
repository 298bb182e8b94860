import { FileIndex, type KeyConfig, type KeyLayout, readKeyConfig, writeKeyConfig } from '../store/index.js';
import type { MigrateRecord } from './migrate-state.js';

/**
 * Points the backup at the new homeserver without downloading anything again: `key.json` gets the
 * new URL if the key was pinned to one (`add --homeserver URL`; an unpinned key follows PKDNS,
 * which the publish step changed), and `syncedFrom` keeps naming the homeserver the cursor
 * belongs to. The next sync then sees that the user moved, lists the new homeserver and revalidates
 * each file with a conditional GET (`If-None-Match`: the new homeserver's ETag is the same BLAKE3,
 * so it answers 304 and no byte is downloaded), then follows the new feed from its head
 * (`SyncManager.catchUpKey` → `KeySync.reconcile`). Returns the new key.json and how the backup now
 * names its homeserver (the pinned URL, or the homeserver key).
 */
export async function repointBackup(
  layout: KeyLayout,
  before: MigrateRecord['before'],
  target: MigrateRecord['target'],
): Promise<{ keyConfig: KeyConfig; identity: string }> {
  const config = await readKeyConfig(layout.keyConfigFile, layout.z32);
  const pinned = before.homeserverUrl !== undefined;
  const identity = pinned ? target.url : (target.key as string);
  const next: KeyConfig = { ...config };
  if (pinned) next.homeserverUrl = target.url;
  // The cursor means nothing on the new homeserver: keep naming the one it came from, so the
  // next sync reconciles by listing instead of reading the new feed from the old cursor.
  const previous = before.syncedFrom ?? (pinned ? before.homeserverUrl : before.homeserver);
  if (before.syncedFrom !== undefined || before.cursor !== '0') {
    next.syncedFrom = previous ?? `unknown homeserver (before the migrate to ${identity})`;
  }
  if (next.syncedFrom === identity) next.syncedFrom = `${identity} (before the migrate)`;
  await useContentHashEtags(layout);
  await writeKeyConfig(layout.keyConfigFile, next);
  return { keyConfig: next, identity };
}

/**
 * The index keeps each file's ETag as the old homeserver sent it, and the next sync sends it back
 * in `If-None-Match`. An ETag in another form than the new homeserver's (hex from homeservers
 * before v0.6, or an opaque tag) would not match, and every file would be downloaded again: each
 * becomes the file's BLAKE3 in base64, the ETag of homeservers v0.6+ (protocol.md §5, §8).
 * Returns how many entries changed. Run under the instance lock (the index has one writer).
 */
export async function useContentHashEtags(layout: KeyLayout): Promise<number> {
  const index = await FileIndex.open(layout.indexFile);
  let changed = 0;
  for (const entry of index.entries()) {
    if (entry.etag === undefined || entry.etag === entry.blake3) continue;
    index.set({ ...entry, etag: entry.blake3 });
    changed++;
  }
  if (changed > 0) await index.flush();
  return changed;
}
