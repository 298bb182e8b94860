import type { Operator } from 'opendal';

/**
 * What `BackupStore` needs from a storage service beyond OpenDAL's `Operator`: durability and a cheap
 * way to keep a version. One thin driver per service (fs today; WebDAV/S3 later), in the spirit of
 * unstorage's drivers. All paths are relative to the key folder, `/`-separated.
 */
export interface StoreDriver {
  readonly operator: Operator;
  /** Makes the bytes of a closed file durable. */
  syncFile(path: string): Promise<void>;
  /** Makes the entries of a folder (renames, new children) durable; `''` is the key folder itself. */
  syncDir(path: string): Promise<void>;
  /**
   * Gives the current content of `from` a second, independent name `to` (creating its folders),
   * leaving `from` in place, and makes it durable.
   */
  keepCopy(from: string, to: string): Promise<void>;
  /** Optional fast path: stream a file without OpenDAL's per-file reader setup (~3× faster on fs). */
  openRead?(path: string): AsyncIterable<Uint8Array>;
  /**
   * Optional fast path: a new file written with plain file-system calls (one open, gathered writes,
   * one fsync on close) instead of OpenDAL's writer and its thread pool. `write` may keep the chunk
   * by reference until `drain`, `close` or `cancel`; `close` makes the bytes durable; `cancel` closes
   * without writing the rest (the file is deleted next).
   */
  openWrite?(path: string): Promise<{
    write(chunk: Buffer): Promise<void>;
    /** Writes what `write` kept by reference (no fsync); `close` still makes it durable. */
    drain?(): Promise<void>;
    close(): Promise<{ mtimeMs: number }>;
    cancel?(): Promise<void>;
  }>;
  /**
   * Optional fast path: what is at a path (one stat, following links as OpenDAL does): a file with
   * its size and modification time, a folder, or nothing (also when a parent is a file).
   */
  entryAt?(
    path: string,
  ): Promise<{ kind: 'file'; size: number; mtimeMs: number } | { kind: 'dir' } | undefined>;
  /** Optional fast path: size and modification time of a file (lstat), undefined when absent. */
  fileInfo?(path: string): Promise<{ size: number; mtimeMs: number } | undefined>;
  /** Optional fast path: deletes a file; no error when it is already gone. */
  remove?(path: string): Promise<void>;
  /** Optional fast path: rename, creating the target's folders. */
  move?(from: string, to: string): Promise<void>;
  /** Optional fast path: a small file in one buffer of its exact size (no chunk copies). */
  readWhole?(path: string): Promise<Buffer>;
  /** Optional fast path: every file under `prefix/` with its size, sorted, in one walk. */
  listFiles?(prefix: string): Promise<Array<{ path: string; size: number }>>;
  /**
   * Optional fast path for snapshots: gives every file under `from/` a second name under `to/`
   * (hard links), returning how many.
   */
  linkTree?(from: string, to: string): Promise<number>;
  /** Optional fast path: the files under `prefix/`, in sorted path order, one folder in memory at a time. */
  walkFiles?(prefix: string): Iterable<string>;
  /**
   * Optional fast path: a file of at most `max` bytes whole (a view valid until the next call),
   * or `'large'`; read without leaving this thread (page-cache hits cost a few µs).
   */
  readSmallSync?(path: string, max: number): Buffer | 'large';
  /** Optional fast path: removes a folder and everything below it. */
  removeTree?(prefix: string): Promise<void>;
}

/**
 * A driver for services whose writes are durable once acknowledged (object stores, WebDAV): nothing to
 * sync, and a version is a server-side copy.
 */
export function operatorDriver(operator: Operator): StoreDriver {
  return {
    operator,
    syncFile: async () => {},
    syncDir: async () => {},
    keepCopy: (from, to) => operator.copy(from, to),
  };
}

/** OpenDAL errors carry their kind at the start of the message: `NotFound (permanent) at stat, …`. */
export function isNotFound(error: unknown): boolean {
  // OpenDAL's kind prefix, or node:fs's code from a driver's fast path.
  return (
    error instanceof Error &&
    (error.message.startsWith('NotFound') || (error as NodeJS.ErrnoException).code === 'ENOENT')
  );
}
