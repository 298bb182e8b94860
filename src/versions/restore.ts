import { BackupError } from '../errors.js';
import {
  acquireWriteLock,
  appendActivity,
  type BackupStore,
  FileIndex,
  hashStream,
  type KeyLayout,
  storePathOf,
} from '../store/index.js';
import { newBlake3 } from '../util/blake3.js';
import { type FileVersion, listVersions } from './list.js';

export interface RestoredVersion {
  path: string;
  /** The version put back. */
  version: FileVersion;
  /** False when the current copy already held those bytes (nothing was written). */
  changed: boolean;
  /** Where the copy it replaced went (a new version), when there was one. */
  replaced?: string;
}

/** No version of that file (at that time). The message says what there is. */
export class VersionNotFoundError extends BackupError {
  override readonly name = 'VersionNotFoundError';
  constructor(message: string) {
    super('VERSION_NOT_FOUND', message, 'not-found');
  }
}

/**
 * Which version was the current copy at `at`: the first one replaced at or after that time (a
 * version `~T` was current until T). Without `at`: the newest version.
 */
export function pickVersion(versions: readonly FileVersion[], at?: Date): FileVersion | undefined {
  if (!at) return versions.at(-1);
  return versions.find((v) => v.versionedAt.getTime() >= at.getTime());
}

/**
 * Puts a previous version of `path` back into the mirror (`data/`), like Syncthing's restore: the
 * current copy, if its bytes differ, becomes a version itself; the index records the restored
 * bytes (the mirror then differs from the homeserver until the file changes there again). Takes
 * the key's write lock; the caller holds the instance lock (no sync may write the index meanwhile).
 */
export async function restoreVersion(
  store: BackupStore,
  layout: KeyLayout,
  path: string,
  options: { at?: Date } = {},
): Promise<RestoredVersion> {
  const versions = await listVersions(store, path);
  const version = pickVersion(versions, options.at);
  if (!version) {
    throw new VersionNotFoundError(
      versions.length === 0
        ? `${path} has no previous versions in this backup.`
        : `${path} has no version current at ${options.at?.toISOString()}; its versions are from ${versions[0]?.versionedAt.toISOString()} to ${versions.at(-1)?.versionedAt.toISOString()}.`,
    );
  }
  const storePath = storePathOf(path.slice(1).split('/'));
  const release = await acquireWriteLock(layout.stateDir, { command: 'versions restore' });
  try {
    const current = await store.fileInfo(storePath);
    const currentHash = current ? await hashStream(store.read(current.path)) : undefined;
    const hasher = await newBlake3();
    const staged = await store.stage(storePath);
    let size = 0;
    try {
      for await (const chunk of store.read(version.storePath)) {
        hasher.update(chunk);
        size += chunk.length;
        await staged.write(chunk);
      }
    } catch (error) {
      await staged.abort();
      throw error;
    }
    const blake3 = hasher.digest();
    if (currentHash?.blake3 === blake3) {
      await staged.abort();
      return { path, version, changed: false };
    }
    const committed = await staged.commit();
    await store.flush();
    if (committed.replaced && currentHash) {
      const versionsIndex = await FileIndex.open(layout.versionsIndexFile);
      versionsIndex.set({ path: committed.replaced, ...currentHash, cursor: '0' });
      await versionsIndex.flush();
    }
    const index = await FileIndex.open(layout.indexFile);
    const before = index.get(path);
    index.set({
      path,
      size,
      blake3,
      cursor: before?.cursor ?? '0',
      ...(committed.mtimeMs !== undefined && { mtimeMs: committed.mtimeMs }),
    });
    await index.flush();
    await appendActivity(layout.activityLog, {
      type: 'version-restored',
      message: `${path}: the version from ${version.versionedAt.toISOString()} was put back${committed.replaced ? '; the copy it replaced was kept as a version' : ''}`,
    });
    return { path, version, changed: true, ...(committed.replaced && { replaced: committed.replaced }) };
  } finally {
    await release();
  }
}
