import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw } from 'node:zlib';
import { crc32 } from '@node-rs/crc32';
import {
  acquireWriteLock,
  type BackupStore,
  homeserverPathOf,
  type JournalReader,
  type KeyLayout,
  openJournal,
  readCursor,
} from '../store/index.js';
import { fsyncDir } from '../util/atomic-file.js';
import { blake3Of, blake3OfSync, newBlake3 } from '../util/blake3.js';
import { describeOwner } from '../util/dir-lock.js';
import { isProcessAlive } from '../util/process-alive.js';
import { TimeSlicer } from '../util/time-slice.js';
import { IndexTable } from './index-table.js';
import { entryNameOf, MANIFEST_NAME, type Manifest, ManifestSpool } from './manifest.js';
import { snapshotName } from './naming.js';
import { OutputFile } from './output-file.js';
import { ZipWriter } from './zip-writer.js';

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
 * Files up to this size are read whole on the calling thread into one reused buffer (a page-cache
 * read of 1 MiB takes well under a millisecond; no stream, no buffer per chunk for the GC); larger
 * ones stream.
 */
const SMALL_FILE_BYTES = 1024 * 1024;
/** The archive's written part is flushed to disk in the background every this many bytes. */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;

/**
 * Writes `snapshots/<time>.zip`: every backed-up file as `pub/…` (stored, not compressed; ZIP64 when
 * needed) plus `manifest.json`. Consistent while sync runs: under the key's write lock the cursor,
 * the index and the files are frozen (hard links into a staging folder), then the archive is
 * streamed from the links. It is written under a temp name and renamed when complete; a failure
 * leaves nothing. Memory does not grow with the number of files: the tree is walked one folder at
 * a time, the central directory and the manifest's file list are spooled to temp files, and the
 * index is held as a compact table (see `IndexTable`).
 */
export async function createSnapshot(options: SnapshotOptions): Promise<CreatedSnapshot> {
  const { layout, store } = options;
  const createdAt = (options.now ?? (() => new Date()))();
  const name = snapshotName(createdAt);
  // The creator's pid in every temp name: leftovers of a process that is gone are removed.
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = `snapshots/.staging-${tag}`;
  const spoolDir = join(layout.snapshotsDir, `.staging-${tag}`);
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
    let total: number;
    let cursor: string;
    let journal: JournalReader | undefined;
    try {
      cursor = await readCursor(layout.cursorFile);
      // Opened under the lock: what it holds now is what the frozen files are compared with.
      journal = await openJournal(layout.indexFile);
      total = await store.freezeData(staging);
    } catch (error) {
      await journal?.close();
      throw error;
    } finally {
      await release();
    }
    const index = await IndexTable.load(journal);
    await mkdir(spoolDir, { recursive: true });
    const head: ManifestHead = {
      format: 'pubky-backup-snapshot',
      version: 1,
      pubky: layout.z32,
      homeserver: options.homeserver,
      cursor,
      created_at: createdAt.toISOString(),
      tool: options.tool,
    };
    const written = await writeArchive({
      temp,
      staging,
      spoolDir,
      total,
      head,
      index,
      mtime: createdAt,
      options,
    });
    await rename(temp, final);
    await fsyncDir(layout.snapshotsDir);
    return {
      file: final,
      name,
      cursor,
      files: written.files,
      bytes: written.bytes,
      damaged: written.damaged,
    };
  } finally {
    await rm(temp, { force: true });
    await store.removeTree(staging);
    await rm(spoolDir, { recursive: true, force: true });
  }
}

type ManifestHead = Omit<Manifest, 'files' | 'damaged'>;

interface ArchiveJob {
  temp: string;
  staging: string;
  spoolDir: string;
  total: number;
  head: ManifestHead;
  index: IndexTable;
  mtime: Date;
  options: SnapshotOptions;
}

/** Streams the frozen files into the archive at `temp` (fsynced), then the manifest. */
async function writeArchive(job: ArchiveJob): Promise<{
  files: number;
  bytes: number;
  damaged: NonNullable<Manifest['damaged']>;
}> {
  const { store, signal, onProgress } = job.options;
  const out = await OutputFile.create(job.temp, { syncEveryBytes: SYNC_EVERY_BYTES });
  const spools: OutputFile[] = [];
  try {
    const central = await OutputFile.create(join(job.spoolDir, 'central.spool'));
    spools.push(central);
    const manifest = await ManifestSpool.create(join(job.spoolDir, 'manifest.spool'));
    spools.push(manifest.file);
    const zip = new ZipWriter(out, central, job.mtime);
    const damaged: NonNullable<Manifest['damaged']> = [];
    const slicer = new TimeSlicer();
    const dataPrefix = `${job.staging}/`;
    let files = 0;
    let bytes = 0;
    for await (const { storePath } of store.walkFiles(`${job.staging}/data`)) {
      signal?.throwIfAborted();
      const path = homeserverPathOf(storePath.slice(dataPrefix.length));
      const name = Buffer.from(entryNameOf(path));
      let blake3: string;
      let size: number;
      // Small files: three syscalls on this thread, then one copy into the archive's buffer.
      const small = store.readSmallNow(storePath, SMALL_FILE_BYTES);
      if (small !== undefined && small !== 'large') {
        blake3 = blake3OfSync(small) ?? (await blake3Of(small));
        size = small.length;
        await zip.addWhole(name, small);
      } else {
        const hasher = await newBlake3();
        const entry = zip.begin(name);
        size = 0;
        for await (const chunk of store.read(storePath)) {
          hasher.update(chunk);
          size += chunk.length;
          await entry.write(chunk);
        }
        await entry.end();
        blake3 = hasher.digest();
      }
      files++;
      bytes += size;
      await manifest.addFile(path, size, blake3);
      // Honest: the manifest says what was archived; bytes the index does not vouch for are named.
      const expected = job.index.get(path);
      if (!expected || expected.blake3 !== blake3 || expected.size !== size) {
        damaged.push({ path, problem: expected ? 'damaged' : 'not-indexed', expected: expected ?? null });
      }
      onProgress?.(files, job.total, bytes);
      await slicer.check();
    }
    signal?.throwIfAborted();
    await writeManifest(zip, manifest, job.head, damaged);
    await zip.finish();
    await out.finish();
    return { files, bytes, damaged };
  } catch (error) {
    await out.abandon();
    throw error;
  } finally {
    for (const spool of spools) await spool.abandon();
  }
}

/** `manifest.json`, deflated, last: the head, the spooled file list, then `damaged` when there are any. */
async function writeManifest(
  zip: ZipWriter,
  manifest: ManifestSpool,
  head: ManifestHead,
  damaged: NonNullable<Manifest['damaged']>,
): Promise<void> {
  const entry = zip.beginDeflated(Buffer.from(MANIFEST_NAME));
  let crc = 0;
  let size = 0;
  async function* text(): AsyncGenerator<Buffer> {
    for await (const part of manifest.json(head, damaged)) {
      crc = crc32(part, crc);
      size += part.length;
      yield part;
    }
  }
  // Level 1: the file list is mostly BLAKE3 hashes, which do not compress; speed matters more.
  await pipeline(Readable.from(text()), createDeflateRaw({ level: 1 }), async (compressed) => {
    for await (const chunk of compressed as AsyncIterable<Buffer>) await entry.write(chunk);
  });
  await entry.end(crc, size);
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
