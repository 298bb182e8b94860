import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import './fast-crc32.js';
import {
  acquireWriteLock,
  type BackupStore,
  homeserverPathOf,
  type KeyLayout,
  readCursor,
} from '../store/index.js';
import { fsyncDir } from '../util/atomic-file.js';
import { newBlake3 } from '../util/blake3.js';
import { entryNameOf, MANIFEST_NAME, type Manifest } from './manifest.js';
import { snapshotName } from './naming.js';

/** Older staging leftovers than this belong to a crashed snapshot, not a running one. */
const LEFTOVER_AGE_MS = 6 * 3_600_000;

export interface SnapshotOptions {
  layout: KeyLayout;
  store: BackupStore;
  /** Homeserver key or URL the backup follows, recorded in the manifest. */
  homeserver: string | null;
  tool: string;
  now?: () => Date;
  /** Called after each file is written into the archive. */
  onProgress?: (done: number, total: number, bytes: number) => void;
}

export interface CreatedSnapshot {
  file: string;
  name: string;
  cursor: string;
  files: number;
  bytes: number;
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
  const staging = `snapshots/.staging-${randomBytes(4).toString('hex')}`;
  await mkdir(layout.snapshotsDir, { recursive: true });
  await removeLeftovers(layout.snapshotsDir, createdAt);
  const final = join(layout.snapshotsDir, name);
  const temp = join(layout.snapshotsDir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const release = await acquireWriteLock(layout.stateDir);
    let files: Array<{ storePath: string; size: number }>;
    let cursor: string;
    try {
      cursor = await readCursor(layout.cursorFile);
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
    const bytes = await writeArchive(temp, staging, files, manifest, createdAt, options);
    const handle = await open(temp, 'r');
    await handle.sync();
    await handle.close();
    await rename(temp, final);
    await fsyncDir(layout.snapshotsDir);
    return { file: final, name, cursor, files: files.length, bytes };
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
  await pipeline(output, createWriteStream(target));
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

/** Staging folders and temp archives of snapshots that crashed long ago (a live one is recent). */
async function removeLeftovers(dir: string, now: Date): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith('.staging-') && !name.endsWith('.tmp')) continue;
    const path = join(dir, name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now.getTime() }));
    if (now.getTime() - mtimeMs > LEFTOVER_AGE_MS) await rm(path, { recursive: true, force: true });
  }
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
