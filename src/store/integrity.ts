import type { BackupStore } from './backup-store.js';
import { hashStream } from './content-hash.js';
import type { FileIndex, IndexEntry } from './file-index.js';
import { homeserverPathOf, storePathOf } from './safe-path.js';

/** A file of the backup that does not hold what the index records. */
export interface IntegrityFinding {
  /** Homeserver path, `/pub/…`. */
  path: string;
  /**
   * - `missing`: indexed, but no file in `data/`
   * - `damaged`: its bytes (size, or BLAKE3 when read) differ from the index
   * - `touched`: size or mtime changed but the bytes are the same (only with `hashTouched`; the
   *   index is then simply out of date — harmless)
   * - `not-indexed`: a file in `data/` the index does not know (only with `untracked`)
   */
  problem: 'missing' | 'damaged' | 'touched' | 'not-indexed';
  detail: string;
  /** The file's current size and mtime, when there is a file. */
  size?: number;
  mtimeMs?: number;
  /** Its BLAKE3 when it was read. */
  blake3?: string;
}

export interface IntegrityOptions {
  /** Read and hash every file (restic's `--read-data`); default: size and mtime only. */
  readData?: boolean;
  /** Hash the files whose size or mtime changed, to tell damage from a mere touch. Default true. */
  hashTouched?: boolean;
  /** Also report files under `data/` the index does not know. */
  untracked?: boolean;
  /** Called after each indexed file is looked at. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Compares the files in `data/` with the index: by default each file's size and mtime (one stat),
 * hashing only those that changed; with `readData` every byte. Yields what differs; never changes
 * anything (the caller repairs through the sync engine).
 */
export async function* compareWithIndex(
  store: BackupStore,
  index: FileIndex,
  options: IntegrityOptions = {},
): AsyncGenerator<IntegrityFinding> {
  const entries = [...index.entries()];
  let done = 0;
  for (const entry of entries) {
    options.signal?.throwIfAborted();
    const finding = await checkEntry(store, entry, options);
    options.onProgress?.(++done, entries.length);
    if (finding) yield finding;
  }
  if (!options.untracked) return;
  for (const file of await store.listData()) {
    const path = homeserverPathOf(file.storePath);
    if (index.get(path)) continue;
    yield { path, problem: 'not-indexed', detail: `${file.storePath} is not in the index`, size: file.size };
  }
}

async function checkEntry(
  store: BackupStore,
  entry: IndexEntry,
  options: IntegrityOptions,
): Promise<IntegrityFinding | undefined> {
  const info = await store.fileInfo(storePathOf(entry.path.slice(1).split('/')));
  if (!info) return { path: entry.path, problem: 'missing', detail: 'indexed, but not in data/' };
  const sameStat =
    info.size === entry.size && (entry.mtimeMs === undefined || entry.mtimeMs === info.mtimeMs);
  if (sameStat && !options.readData) return undefined;
  if (!sameStat && options.hashTouched === false) {
    return {
      path: entry.path,
      problem: info.size === entry.size ? 'touched' : 'damaged',
      detail: `size ${info.size} (index ${entry.size}), mtime changed`,
      size: info.size,
      mtimeMs: info.mtimeMs,
    };
  }
  const { blake3, size } = await hashStream(store.read(info.path));
  if (blake3 === entry.blake3 && size === entry.size) {
    return sameStat
      ? undefined
      : {
          path: entry.path,
          problem: 'touched',
          detail: 'modified time changed, bytes intact',
          size,
          mtimeMs: info.mtimeMs,
          blake3,
        };
  }
  return {
    path: entry.path,
    problem: 'damaged',
    detail: `${size} bytes with BLAKE3 ${blake3}; the index records ${entry.size} bytes, ${entry.blake3}`,
    size,
    mtimeMs: info.mtimeMs,
    blake3,
  };
}
