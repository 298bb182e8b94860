import { randomUUID } from 'node:crypto';
import type { Operator } from 'opendal';
import { CommitQueue } from './commit-queue.js';
import { isNotFound, type StoreDriver } from './driver.js';
import { fsDriver } from './fs-driver.js';
import { DATA_PREFIX, MAX_SEGMENT_BYTES, SELF_ENTRY } from './safe-path.js';

/** A file being written to `tmp/`; nothing is visible at its final path before `commit`. */
export interface StagedFile {
  /**
   * Appends bytes. The store may keep `chunk` by reference until `commit` or `abort` (small writes
   * are gathered into one system call): pass bytes that are not changed afterwards.
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Makes the bytes durable and puts them at the final path, keeping the previous file (if any) in
   * `versions/`; `replaced` is that version's store path, `mtimeMs` the new file's modification
   * time (the index keeps it: a later change of size or mtime means the file was touched).
   * Callers commit only bytes that differ from the current file's (a version is kept only then).
   */
  commit(): Promise<Committed>;
  /**
   * `commit`, in the store's background queue: resolves once every byte is in the temp file (not
   * yet fsynced) and the queue has room — the caller's download slot is then free — with
   * `committed`, which settles as `commit` would have (a failed commit removes the temp file and
   * rejects it). A commit that has not started when `signal` aborts drops the temp file instead.
   * `BackupStore.flush` waits for every commit queued before it; the caller must await `committed`
   * before it records the file anywhere.
   */
  commitLater(options?: { signal?: AbortSignal }): Promise<{ committed: Promise<Committed> }>;
  /** Drops the temp file. Safe to call more than once, and after a failed commit. */
  abort(): Promise<void>;
}

export interface Committed {
  replaced?: string;
  mtimeMs?: number;
}

export interface BackupStoreOptions {
  /** Clock for version names; tests pin it. */
  now?: () => Date;
  /**
   * Background commits (`StagedFile.commitLater`) running at once. Without this option (nor
   * `commitLimit`) every store of the process shares one queue: 8 running, 32 admitted in all, so
   * open descriptors and fsyncs stay bounded however many keys sync at once.
   */
  commitConcurrency?: number;
  /** Background commits admitted at once, running or waiting (one open descriptor each). */
  commitLimit?: number;
}

const COMMIT_CONCURRENCY = 8;
const COMMIT_LIMIT = 32;
let sharedCommits: CommitQueue | undefined;

const TMP_DIR = 'tmp';
const RELOCATE_INTENT = '.relocate.json';
const VERSIONS_DIR = 'versions';
const READ_CHUNK_BYTES = 256 * 1024;
const STAT_CONCURRENCY = 16;
/** `~YYYY-MM-DD_HH-MM-SS.mmm-NNNNNN`: room kept for the version suffix when shortening a name. */
const VERSION_SUFFIX_MAX_BYTES = 31;

/**
 * The backup of one key over an OpenDAL operator whose root is the key folder (`keys/<z32>/`):
 * `data/` mirrors the homeserver's tree (escaped store paths, see `backupPathOf`), `versions/` keeps
 * every overwritten or deleted file as `<path>~<UTC YYYY-MM-DD_HH-MM-SS.mmm>`, `tmp/` holds downloads
 * in progress. A crash at any point leaves the old or the new file at a final path, never a partial one.
 */
export class BackupStore {
  private readonly op: Operator;
  private readonly now: () => Date;
  /** Folders whose own entry in their parent is known to be durable. */
  private readonly durableDirs = new Set<string>();
  /** Folders with renames not yet fsynced (see `flush`). */
  private readonly dirtyDirs = new Set<string>();
  /** Serialises changes to a path, and to paths whose version names could collide. */
  private readonly locks = new Map<string, Promise<void>>();
  /** Commits of downloads already received (see `StagedFile.commitLater`). */
  private readonly commits: CommitQueue;
  /** This store's commits in that queue, until they settle (what `flush` waits for). */
  private readonly ownCommits = new Set<Promise<void>>();

  constructor(
    private readonly driver: StoreDriver,
    options: BackupStoreOptions = {},
  ) {
    this.op = driver.operator;
    this.now = options.now ?? (() => new Date());
    if (options.commitConcurrency === undefined && options.commitLimit === undefined) {
      sharedCommits ??= new CommitQueue(COMMIT_CONCURRENCY, COMMIT_LIMIT);
      this.commits = sharedCommits;
    } else {
      const concurrency = options.commitConcurrency ?? COMMIT_CONCURRENCY;
      this.commits = new CommitQueue(concurrency, Math.max(concurrency, options.commitLimit ?? COMMIT_LIMIT));
    }
  }

  /** The store of a local key folder. */
  static openFs(keyDir: string, options: BackupStoreOptions = {}): BackupStore {
    return new BackupStore(fsDriver(keyDir), options);
  }

  async stage(storePath: string): Promise<StagedFile> {
    assertStorePath(storePath);
    const temp = `${TMP_DIR}/${randomUUID()}.part`;
    const writer = this.driver.openWrite ? await this.driver.openWrite(temp) : await this.op.writer(temp);
    return new Staged(writer as StagedWriter, storePath, {
      install: () => this.install(temp, storePath),
      discard: () => (this.driver.remove ? this.driver.remove(temp) : this.op.delete(temp)),
      background: (task) => this.background(task),
    });
  }

  /** Moves a file to `versions/` (it is never deleted); returns the version's path, or undefined if absent. */
  async remove(storePath: string): Promise<string | undefined> {
    assertStorePath(storePath);
    return this.exclusive(lockKey(storePath), async () => {
      const actual = await this.locate(storePath);
      if (!actual) return undefined;
      const version = await this.freeVersionPath(storePath);
      await this.move(actual.path, version);
      await this.syncParents(version);
      this.dirtyDirs.add(parentOf(actual.path));
      return version;
    });
  }

  /** Size of the file kept for `storePath` (see `locate`); undefined when there is none. */
  async stat(storePath: string): Promise<{ size: number } | undefined> {
    const actual = await this.locate(storePath);
    return actual && { size: actual.size };
  }

  /**
   * Where the file of `storePath` is, with its size and modification time (ms since the epoch; 0
   * where the storage service does not keep one). Undefined when there is no such file.
   */
  async fileInfo(storePath: string): Promise<{ path: string; size: number; mtimeMs: number } | undefined> {
    const actual = await this.locateEntry(storePath);
    if (!actual) return undefined;
    if (actual.mtimeMs !== undefined)
      return { path: actual.path, size: actual.size, mtimeMs: actual.mtimeMs };
    if (this.driver.fileInfo) {
      const info = await this.driver.fileInfo(actual.path);
      return info && { path: actual.path, ...info };
    }
    const meta = await this.op.stat(actual.path);
    return {
      path: actual.path,
      size: actual.size,
      mtimeMs: meta.lastModified ? Date.parse(meta.lastModified) : 0,
    };
  }

  /**
   * Where the file of a store path is: the path itself, or — when a folder has that name, because
   * the homeserver also holds files below it — `SELF_ENTRY` inside that folder. Undefined when
   * there is no such file.
   */
  async locate(storePath: string): Promise<{ path: string; size: number } | undefined> {
    const actual = await this.locateEntry(storePath);
    return actual && { path: actual.path, size: actual.size };
  }

  /** `locate`, with the modification time when the driver's stat gave it. */
  private async locateEntry(
    storePath: string,
  ): Promise<{ path: string; size: number; mtimeMs?: number } | undefined> {
    const entry = await this.entry(storePath);
    if (entry?.kind === 'file') return { ...entry, path: storePath };
    if (entry?.kind !== 'dir') return undefined;
    const self = await this.entry(`${storePath}/${SELF_ENTRY}`);
    return self?.kind === 'file' ? { ...self, path: `${storePath}/${SELF_ENTRY}` } : undefined;
  }

  /**
   * What is at a path: a file (with its size, and its mtime on fs), a folder, or nothing (also when
   * a parent is a file).
   */
  private async entry(
    path: string,
  ): Promise<{ kind: 'file'; size: number; mtimeMs?: number } | { kind: 'dir' } | undefined> {
    // One stat on fs; OpenDAL's costs a trip through its thread pool.
    if (this.driver.entryAt) return this.driver.entryAt(path);
    try {
      const meta = await this.op.stat(path);
      if (meta.isFile()) return { kind: 'file', size: Number(meta.contentLength ?? 0n) };
      return meta.isDirectory() ? { kind: 'dir' } : undefined;
    } catch (error) {
      if (isNotFound(error) || isNotADirectory(error)) return undefined;
      throw error;
    }
  }

  /** Streams a file of the key folder (`data/…`, a version, a snapshot's staging) in 256 KiB chunks. */
  async *read(storePath: string): AsyncIterable<Uint8Array> {
    if (this.driver.openRead) {
      yield* this.driver.openRead(storePath);
      return;
    }
    const reader = await this.op.reader(storePath);
    for (;;) {
      const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const n = Number(await reader.read(buffer));
      if (n === 0) return;
      yield buffer.subarray(0, n);
    }
  }

  /** A small file whole, for callers that read many small files ahead (snapshots). */
  async readWhole(path: string): Promise<Buffer> {
    if (this.driver.readWhole) return this.driver.readWhole(path);
    const parts: Uint8Array[] = [];
    for await (const chunk of this.read(path)) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /** Every file under `data/`, sorted by store path. */
  listData(): Promise<Array<{ storePath: string; size: number }>> {
    return this.listFiles(DATA_PREFIX);
  }

  /** Every file under a folder of the key folder (`data`, `versions`), sorted by store path. */
  async listFiles(prefix: string): Promise<Array<{ storePath: string; size: number }>> {
    if (this.driver.listFiles) {
      return (await this.driver.listFiles(prefix)).map((f) => ({ storePath: f.path, size: f.size }));
    }
    // OpenDAL 0.49 lists the whole tree at once, folders included (`…/`), with sizes left at 0.
    let entries: Awaited<ReturnType<Operator['list']>>;
    try {
      entries = await this.op.list(`${prefix}/`, { recursive: true });
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const files = entries.map((entry) => entry.path()).filter((path) => !path.endsWith('/'));
    files.sort();
    const result: Array<{ storePath: string; size: number }> = new Array(files.length);
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        const storePath = files[i] as string;
        const size = Number((await this.op.stat(storePath)).contentLength ?? 0n);
        result[i] = { storePath, size };
      }
    };
    await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, files.length) }, worker));
    return result;
  }

  /**
   * Gives every data file a second name under `prefix/` (hard links on fs: instant, no copy), so a
   * snapshot can read a frozen tree while sync keeps replacing files by rename. Returns the files.
   */
  async linkDataTo(prefix: string): Promise<Array<{ storePath: string; size: number }>> {
    const files = await this.listData();
    // A link is one thread-pool round trip: keep a few in flight.
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++] as { storePath: string };
        await this.driver.keepCopy(file.storePath, `${prefix}/${file.storePath}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, files.length) }, worker));
    return files;
  }

  /**
   * Freezes `data/` for a snapshot: every data file gets a second name under `prefix/` (hard links
   * on fs, copies elsewhere) without building a list of them. Returns how many files.
   */
  async freezeData(prefix: string): Promise<number> {
    if (this.driver.linkTree) return this.driver.linkTree(DATA_PREFIX, `${prefix}/${DATA_PREFIX}`);
    return (await this.linkDataTo(prefix)).length;
  }

  /**
   * The files under a folder of the key folder in sorted path order, streamed (on fs one folder's
   * listing in memory at a time); `size` is known only where the service lists it.
   */
  async *walkFiles(prefix: string): AsyncGenerator<{ storePath: string; size?: number }> {
    if (this.driver.walkFiles) {
      for (const storePath of this.driver.walkFiles(prefix)) yield { storePath };
      return;
    }
    yield* await this.listFiles(prefix);
  }

  /**
   * A small file whole without waiting (see `StoreDriver.readSmallSync`): the bytes (a view valid
   * until the next call), `'large'` when it is bigger than `max`, or undefined when the service has
   * no such path (use `read`).
   */
  readSmallNow(path: string, max: number): Buffer | 'large' | undefined {
    return this.driver.readSmallSync?.(path, max);
  }

  /** Deletes one file of the key folder for good (only for versions past their retention). */
  async deleteFile(path: string): Promise<void> {
    if (!path.startsWith(`${VERSIONS_DIR}/`)) throw new Error(`Only versions are ever deleted, not ${path}.`);
    await this.op.delete(path);
  }

  /** Removes a whole folder of the key folder (e.g. a snapshot's staging). */
  async removeTree(prefix: string): Promise<void> {
    const folder = prefix.replace(/\/+$/, '');
    if (this.driver.removeTree) await this.driver.removeTree(folder);
    else await this.op.removeAll(`${folder}/`);
  }

  /**
   * Removes what a crash left in `tmp/`, first finishing any interrupted relocation (see
   * `relocate`); call before staging anything. Returns how many files went.
   */
  async cleanTemp(): Promise<number> {
    const entries = await this.op.list(`${TMP_DIR}/`, { recursive: true });
    for (const entry of entries) {
      if (entry.path().endsWith(RELOCATE_INTENT)) await this.finishRelocation(entry.path());
    }
    const files = entries.filter((entry) => !entry.path().endsWith('/')).length;
    await this.op.removeAll(`${TMP_DIR}/`);
    return files;
  }

  /** The second half of `StagedFile.commit`, once the temp file is closed. */
  private async install(temp: string, storePath: string): Promise<{ replaced?: string }> {
    // A fast-path writer fsyncs on close; OpenDAL's writer gets an explicit sync.
    if (!this.driver.openWrite) await this.driver.syncFile(temp);
    return this.exclusive(lockKey(storePath), async () => {
      try {
        return await this.place(temp, storePath);
      } catch (error) {
        // Another download just made a folder of this name (the file then goes inside it), or a
        // file stands where a folder must be (`/pub/notes` backed up, now `/pub/notes/today`).
        // Under this path's lock a folder never turns back into a file: one more look settles it.
        if (!isPlacementConflict(error)) throw error;
        await this.relocateFileAncestors(storePath);
        return this.place(temp, storePath);
      }
    });
  }

  /** Puts a closed temp file at `storePath` (or inside a folder of that name), keeping the current copy. */
  private async place(temp: string, storePath: string): Promise<{ replaced?: string }> {
    // A folder of that name (files below it on the homeserver): the file goes inside it.
    const here = await this.entry(storePath);
    const target = here?.kind === 'dir' ? `${storePath}/${SELF_ENTRY}` : storePath;
    const current =
      here?.kind === 'file' || (here?.kind === 'dir' && (await this.entry(target))?.kind === 'file');
    let replaced: string | undefined;
    if (current) {
      // Link (or copy) first, then rename over: the final path is never empty, even for a moment.
      replaced = await this.freeVersionPath(storePath);
      await this.driver.keepCopy(target, replaced);
      await this.syncParents(replaced);
    }
    await this.move(temp, target);
    await this.syncParents(target);
    return replaced === undefined ? {} : { replaced };
  }

  /** Moves every file that stands where a folder of `storePath` must be into that folder (`SELF_ENTRY`). */
  private async relocateFileAncestors(storePath: string): Promise<boolean> {
    const parts = storePath.split('/');
    let moved = false;
    for (let depth = 2; depth < parts.length; depth++) {
      const ancestor = parts.slice(0, depth).join('/');
      const relocated = await this.exclusive(lockKey(ancestor), async () => {
        const entry = await this.entry(ancestor);
        if (entry?.kind !== 'file') return entry === undefined ? 'stop' : 'ok';
        await this.relocate(ancestor, `${ancestor}/${SELF_ENTRY}`);
        return 'moved';
      });
      if (relocated === 'stop') break;
      if (relocated === 'moved') moved = true;
    }
    return moved;
  }

  /**
   * Moves a file into a new folder of its own name, crash-safely: an intent file in `tmp/` says
   * where it goes before the file leaves its place, and `cleanTemp` finishes the move after a crash
   * (the file is never only in `tmp/`, where cleaning would lose it).
   */
  private async relocate(from: string, to: string): Promise<void> {
    const id = randomUUID();
    const intent = `${TMP_DIR}/${id}${RELOCATE_INTENT}`;
    await this.op.write(intent, Buffer.from(JSON.stringify({ from, to })));
    await this.driver.syncFile(intent);
    await this.driver.syncDir(TMP_DIR);
    await this.move(from, holdingPath(intent));
    await this.driver.syncDir(parentOf(from));
    await this.finishRelocation(intent);
  }

  private async finishRelocation(intent: string): Promise<void> {
    const hold = holdingPath(intent);
    let target: { from: string; to: string };
    try {
      target = JSON.parse((await this.op.read(intent)).toString('utf8'));
    } catch {
      return; // a torn intent: written before the file moved, so nothing was moved
    }
    if ((await this.entry(hold))?.kind === 'file') {
      assertStorePath(target.to);
      await this.move(hold, target.to);
      for (const dir of [parentOf(target.to), parentOf(parentOf(target.to)), TMP_DIR]) {
        await this.driver.syncDir(dir);
      }
    }
    await this.op.delete(intent);
  }

  /** `versions/<path under data/>~<UTC time>`, with `-2`, `-3`… when that name is taken. */
  private async freeVersionPath(storePath: string): Promise<string> {
    const base = versionBase(storePath);
    const stamp = versionStamp(this.now());
    for (let n = 1; ; n++) {
      const candidate = fitName(base, `~${stamp}${n === 1 ? '' : `-${n}`}`);
      if (!(await this.exists(candidate))) return candidate;
    }
  }

  private async exists(path: string): Promise<boolean> {
    if (this.driver.entryAt) return (await this.driver.entryAt(path)) !== undefined;
    return this.op.exists(path);
  }

  /** This store's background commits admitted and not yet settled (see `StagedFile.commitLater`). */
  get pendingCommits(): number {
    return this.ownCommits.size;
  }

  private async background<T>(task: () => Promise<T>): Promise<{ done: Promise<T> }> {
    const admitted = await this.commits.add(task);
    const settled = admitted.done.then(
      () => {},
      () => {},
    );
    this.ownCommits.add(settled);
    void settled.then(() => this.ownCommits.delete(settled));
    return admitted;
  }

  /**
   * Makes every rename since the last flush durable: one fsync per touched folder (and per folder
   * created since this store opened) instead of one per file. Files are fsynced before their rename,
   * so after a crash a path holds its old or its new content; callers flush before they record
   * progress (sync: before the index and the cursor). Background commits queued before this call
   * settle first, so their renames are among the ones made durable.
   */
  async flush(): Promise<void> {
    if (this.ownCommits.size > 0) await Promise.all([...this.ownCommits]);
    const dirs = [...this.dirtyDirs];
    this.dirtyDirs.clear();
    for (const dir of dirs) await this.driver.syncDir(dir);
  }

  /** Marks a new entry's folder, and every folder created for it since this store opened, for `flush`. */
  private async syncParents(path: string): Promise<void> {
    let dir = parentOf(path);
    this.dirtyDirs.add(dir);
    while (dir !== '' && !this.durableDirs.has(dir)) {
      const parent = parentOf(dir);
      this.dirtyDirs.add(parent);
      this.durableDirs.add(dir);
      dir = parent;
    }
  }

  private async move(from: string, to: string): Promise<void> {
    if (this.driver.move) await this.driver.move(from, to);
    else await this.op.rename(from, to);
  }

  private async exclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}

/** An fs fast-path writer (its close says the file's mtime) or OpenDAL's (says nothing). */
type StagedWriter = {
  write(chunk: Buffer): Promise<void>;
  drain?(): Promise<void>;
  close(): Promise<{ mtimeMs?: number } | undefined>;
  cancel?(): Promise<void>;
};

class Staged implements StagedFile {
  private state: 'open' | 'committing' | 'done' = 'open';
  private pending: Promise<void> = Promise.resolve();
  private writerClosed = false;

  constructor(
    private readonly writer: StagedWriter,
    private readonly storePath: string,
    private readonly finish: {
      install(): Promise<{ replaced?: string }>;
      discard(): Promise<void>;
      background<T>(task: () => Promise<T>): Promise<{ done: Promise<T> }>;
    },
  ) {}

  write(chunk: Uint8Array): Promise<void> {
    if (this.state !== 'open') {
      return Promise.reject(new Error(`${this.storePath}: write after commit or abort.`));
    }
    // Zero-copy view; the native writer takes one call at a time, so calls are chained.
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pending = this.pending.then(() => this.writer.write(buffer));
    return this.pending;
  }

  async commit(): Promise<Committed> {
    if (this.state !== 'open') throw new Error(`${this.storePath}: commit after commit or abort.`);
    this.state = 'committing';
    return this.complete();
  }

  async commitLater(options: { signal?: AbortSignal } = {}): Promise<{ committed: Promise<Committed> }> {
    if (this.state !== 'open') throw new Error(`${this.storePath}: commit after commit or abort.`);
    this.state = 'committing';
    try {
      // Every byte into the temp file now: a waiting commit holds a descriptor, not the bytes.
      await this.pending;
      await this.writer.drain?.();
    } catch (error) {
      await this.drop().catch(() => {});
      throw error;
    }
    const { signal } = options;
    return {
      committed: (
        await this.finish.background(async () => {
          if (signal?.aborted) {
            await this.drop().catch(() => {});
            throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
          }
          return this.complete();
        })
      ).done,
    };
  }

  /** Closes (fsync) and installs the temp file; on failure it is removed. */
  private async complete(): Promise<Committed> {
    try {
      await this.pending;
      const closed = await this.closeWriter();
      const result = await this.finish.install();
      this.state = 'done';
      return closed?.mtimeMs === undefined ? result : { ...result, mtimeMs: closed.mtimeMs };
    } catch (error) {
      await this.drop().catch(() => {});
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return; // committed, aborted, or a failed commit already cleaned up
    await this.drop();
  }

  private async drop(): Promise<void> {
    this.state = 'done';
    await this.pending.catch(() => {});
    if (!this.writerClosed && this.writer.cancel) {
      // Nothing to make durable in a file that is deleted next.
      this.writerClosed = true;
      await this.writer.cancel().catch(() => {});
    } else {
      await this.closeWriter().catch(() => {});
    }
    await this.finish.discard();
  }

  private async closeWriter(): Promise<{ mtimeMs?: number } | undefined> {
    if (this.writerClosed) return undefined;
    this.writerClosed = true;
    return (await this.writer.close()) ?? undefined;
  }
}

/** Rejects store paths that could leave `data/` (OpenDAL's fs service follows `..` out of its root). */
function assertStorePath(storePath: string): void {
  const segments = storePath.split('/');
  if (
    segments[0] !== DATA_PREFIX ||
    segments.length < 2 ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..') ||
    /[\0\\]/.test(storePath)
  ) {
    throw new Error(`Not a safe store path under ${DATA_PREFIX}/: ${JSON.stringify(storePath)}.`);
  }
}

/**
 * Paths whose version names could collide share a key: the same path, or long names that shorten to
 * the same prefix (see `fitName`).
 */
function lockKey(storePath: string): string {
  return fitName(versionBase(storePath), ' '.repeat(VERSION_SUFFIX_MAX_BYTES));
}

function versionBase(storePath: string): string {
  return `${VERSIONS_DIR}/${storePath.slice(DATA_PREFIX.length + 1)}`;
}

/** UTC `YYYY-MM-DD_HH-MM-SS.mmm`, the original app's version and snapshot time format. */
export function versionStamp(date: Date): string {
  return date.toISOString().replace('T', '_').replace(/:/g, '-').replace('Z', '');
}

/** Appends `suffix` to the last segment, shortening the name so the segment stays ≤ 255 bytes. */
function fitName(path: string, suffix: string): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = Array.from(path.slice(slash + 1));
  const room = MAX_SEGMENT_BYTES - Buffer.byteLength(suffix);
  while (Buffer.byteLength(name.join('')) > room) name.pop();
  return `${dir}${name.join('')}${suffix}`;
}

function holdingPath(intent: string): string {
  return `${intent.slice(0, -RELOCATE_INTENT.length)}.relocating`;
}

/** A rename that failed because a folder or file stands in the way (see `install`). */
function isPlacementConflict(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return (
    code === 'EISDIR' ||
    code === 'ENOTDIR' ||
    code === 'EEXIST' ||
    code === 'ENOTEMPTY' ||
    (error instanceof Error && /is a directory|not a directory|already exists/i.test(error.message))
  );
}

/** ENOTDIR: a parent of the path is a file. */
function isNotADirectory(error: unknown): boolean {
  return (
    error instanceof Error &&
    ((error as NodeJS.ErrnoException).code === 'ENOTDIR' || /not a directory/i.test(error.message))
  );
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}
