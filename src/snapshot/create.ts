import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import './fast-crc32.js';
import {
  acquireWriteLock,
  type BackupStore,
  FileIndex,
  homeserverPathOf,
  type KeyLayout,
  readCursor,
} from '../store/index.js';
import { fsyncDir } from '../util/atomic-file.js';
import { newBlake3 } from '../util/blake3.js';
import { describeOwner } from '../util/dir-lock.js';
import { isProcessAlive } from '../util/process-alive.js';
import { entryNameOf, MANIFEST_NAME, type Manifest } from './manifest.js';
import { snapshotName } from './naming.js';

export interface SnapshotOptions {
  layout: KeyLayout;
  store: BackupStore;
  /** Homeserver key or URL the backup follows, recorded in the manifest. */
  homeserver: string | null;
  tool: string;
  now?: () => Date;
  /** Called after each file is written into the archive. */
  onProgress?: (done: number, total: number, bytes: number) => void;
  /** Stops the snapshot; nothing is left behind (temp archive and staging removed). */
  signal?: AbortSignal;
  /** Told once when the snapshot has to wait for the key's write lock (a sync batch in progress). */
  onWait?: (holder: string) => void;
}

export interface CreatedSnapshot {
  file: string;
  name: string;
  cursor: string;
  files: number;
  bytes: number;
  /** Entries whose bytes were not what the index records (see `Manifest.damaged`); empty when all matched. */
  damaged: NonNullable<Manifest['damaged']>;
}

/**
 * Writes `snapshots/<time>.zip`: every backed-up file as `pub/…` (stored, not compressed; ZIP64 when
 * needed) plus `manifest.json`. Consistent while sync runs: under the key's write lock the file list
 * and cursor are frozen by hard-linking the data into a staging folder, then the archive is streamed
 * from the links. It is written under a temp name and renamed when complete; a failure leaves nothing.
 */
export async function createSnapshot(options: SnapshotOptions): Promise<CreatedSnapshot> {
  const { layout, store } = options;
  const createdAt = (options.now ?? (() => new Date()))();
  const name = snapshotName(createdAt);
  // The creator's pid in every temp name: leftovers of a process that is gone are removed.
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = `snapshots/.staging-${tag}`;
  await mkdir(layout.snapshotsDir, { recursive: true });
  await removeSnapshotLeftovers(layout);
  const final = join(layout.snapshotsDir, name);
  const temp = join(layout.snapshotsDir, `.${name}.${tag}.tmp`);
  try {
    const release = await acquireWriteLock(layout.stateDir, {
      signal: options.signal,
      command: 'snapshot create',
      onWait: (owner) => options.onWait?.(describeOwner(owner)),
    });
    let files: Array<{ storePath: string; size: number }>;
    let cursor: string;
    let index: FileIndex;
    try {
      cursor = await readCursor(layout.cursorFile);
      index = await FileIndex.open(layout.indexFile);
      files = await store.linkDataTo(staging);
    } finally {
      await release();
    }
    const manifest: Manifest = {
      format: 'pubky-backup-snapshot',
      version: 1,
      pubky: layout.z32,
      homeserver: options.homeserver,
      cursor,
      created_at: createdAt.toISOString(),
      tool: options.tool,
      files: [],
    };
    const bytes = await writeArchive(temp, staging, files, manifest, createdAt, index, options);
    const handle = await open(temp, 'r');
    await handle.sync();
    await handle.close();
    await rename(temp, final);
    await fsyncDir(layout.snapshotsDir);
    return { file: final, name, cursor, files: files.length, bytes, damaged: manifest.damaged ?? [] };
  } finally {
    await rm(temp, { force: true });
    await store.removeTree(staging);
  }
}

async function writeArchive(
  target: string,
  staging: string,
  files: Array<{ storePath: string; size: number }>,
  manifest: Manifest,
  mtime: Date,
  fileIndex: FileIndex,
  options: SnapshotOptions,
): Promise<number> {
  const zip = new yazl.ZipFile();
  let failure: Error | undefined;
  zip.on('error', (error: Error) => {
    failure = error;
  });
  let done = 0;
  let bytes = 0;
  const read = new ReadAhead(options.store, staging, files);
  files.forEach((file, index) => {
    const path = homeserverPathOf(file.storePath);
    const entry = { path, size: file.size, blake3: '' };
    manifest.files.push(entry);
    // Lazy: a file is read only when the archive reaches it (small ones a little ahead).
    zip.addReadStreamLazy(entryNameOf(path), { compress: false, size: file.size, mtime }, (callback) => {
      // yazl does not watch its input streams: a read failure must fail the whole archive.
      const fail = (error: Error) => (zip.outputStream as unknown as Readable).destroy(error);
      hashInto(entry, () => {
        done++;
        bytes += file.size;
        // Honest: the manifest says what was archived; bytes the index does not vouch for are named.
        const expected = fileIndex.get(path);
        if (!expected || expected.blake3 !== entry.blake3 || expected.size !== entry.size) {
          manifest.damaged ??= [];
          manifest.damaged.push({
            path,
            problem: expected ? 'damaged' : 'not-indexed',
            expected: expected ? { size: expected.size, blake3: expected.blake3 } : null,
          });
        }
        options.onProgress?.(done, files.length, bytes);
      }).then((transform) => {
        try {
          const source = read.open(index);
          source.on('error', fail);
          callback(null, source.pipe(transform));
        } catch (error) {
          fail(error as Error);
        }
      }, fail);
    });
  });
  // Added last and built lazily, so it carries the hashes computed while the files streamed in.
  zip.addReadStreamLazy(MANIFEST_NAME, { compress: true, mtime }, (callback) => {
    callback(null, Readable.from([JSON.stringify(manifest, null, 1)]));
  });
  zip.end();
  const output = zip.outputStream as unknown as Readable;
  await pipeline(output, createWriteStream(target), { signal: options.signal });
  if (failure) throw failure;
  return bytes;
}

/** A pass-through that records the BLAKE3 of what flows through it into `entry`. */
async function hashInto(entry: { blake3: string }, onEnd: () => void): Promise<Transform> {
  const hasher = await newBlake3();
  return new Transform({
    transform(chunk: Buffer, _encoding, next) {
      hasher.update(chunk);
      next(null, chunk);
    },
    flush(next) {
      entry.blake3 = hasher.digest();
      onEnd();
      next();
    },
  });
}

/**
 * Removes staging folders and temp archives of snapshots whose process is gone (interrupted,
 * killed, crashed). Their names carry the creator's pid; a live creator's are left alone. Called
 * by `create`, `prune` and the running sync.
 */
export async function removeSnapshotLeftovers(layout: KeyLayout): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(layout.snapshotsDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    // `.staging-<pid>-<rand>`, `.<name>.<pid>-<rand>.tmp`; older versions wrote no pid.
    const match =
      /^\.(?:staging-|.*\.)(\d+)-[0-9a-f]{8}(?:\.tmp)?$/.exec(name) ??
      /^\.(?:staging-[0-9a-f]{8}|.*\.[0-9a-f]{8}\.tmp)$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1] ?? 0);
    if (pid === process.pid || (pid > 0 && isProcessAlive(pid))) continue; // in use
    await rm(join(layout.snapshotsDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Files up to this size are read whole, several at once, ahead of the archive. */
const SMALL_FILE_BYTES = 1 << 20;
const READ_AHEAD = 16;

/**
 * Opens the archive's files in order. Reading a file costs a few thread-pool round trips (open,
 * read, close) that dominate for small files, so the next small files are read concurrently while
 * the current one is written: at most READ_AHEAD × 1 MiB in memory. Large files stream.
 */
class ReadAhead {
  private readonly ahead = new Map<number, Promise<Buffer>>();

  constructor(
    private readonly store: BackupStore,
    private readonly staging: string,
    private readonly files: ReadonlyArray<{ storePath: string; size: number }>,
  ) {}

  open(index: number): Readable {
    for (let i = index; i < Math.min(index + READ_AHEAD, this.files.length); i++) this.prefetch(i);
    const whole = this.ahead.get(index);
    const file = this.files[index] as { storePath: string };
    if (!whole) return Readable.from(this.store.read(`${this.staging}/${file.storePath}`));
    this.ahead.delete(index);
    return Readable.from(
      (async function* () {
        yield await whole;
      })(),
    );
  }

  private prefetch(index: number): void {
    const file = this.files[index] as { storePath: string; size: number };
    if (file.size > SMALL_FILE_BYTES || this.ahead.has(index)) return;
    const whole = this.store.readWhole(`${this.staging}/${file.storePath}`);
    whole.catch(() => {}); // reported when the archive reaches this file
    this.ahead.set(index, whole);
  }
}
