import { type BackupStore, DATA_PREFIX, homeserverPathOf } from '../store/index.js';

/** One previous version of a file, kept in `versions/` when it was overwritten or deleted. */
export interface FileVersion {
  /** Homeserver path of the file, `/pub/…`. */
  path: string;
  /** Where the version is, relative to the key folder (`versions/pub/…~<time>`). */
  storePath: string;
  /** When it stopped being the current copy (UTC, from its name). */
  versionedAt: Date;
  size: number;
}

/** `~YYYY-MM-DD_HH-MM-SS.mmm` and an optional `-N` when two versions share a millisecond. */
const SUFFIX = /~(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})\.(\d{3})(?:-\d+)?$/;

/**
 * The versions of a key, oldest first; with `path`, only that file's. Files in `versions/` whose
 * names do not end in a version time are not versions (left alone, never listed or pruned).
 */
export async function listVersions(store: BackupStore, path?: string): Promise<FileVersion[]> {
  const versions: FileVersion[] = [];
  for (const file of await store.listFiles('versions')) {
    const version = parseVersion(file.storePath, file.size);
    if (version && (path === undefined || version.path === path)) versions.push(version);
  }
  return versions.sort(
    (a, b) => a.versionedAt.getTime() - b.versionedAt.getTime() || (a.path < b.path ? -1 : 1),
  );
}

/** A version's file name read back: its file's homeserver path and time; undefined for other names. */
export function parseVersion(storePath: string, size: number): FileVersion | undefined {
  const match = SUFFIX.exec(storePath);
  if (!match || !storePath.startsWith('versions/')) return undefined;
  const [, y, mo, d, h, mi, s, ms] = match;
  const versionedAt = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
  if (Number.isNaN(versionedAt.getTime())) return undefined;
  const original = `${DATA_PREFIX}/${storePath.slice('versions/'.length, match.index)}`;
  let path: string;
  try {
    path = homeserverPathOf(original);
  } catch {
    return undefined;
  }
  return { path, storePath, versionedAt, size };
}
