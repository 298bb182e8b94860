import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, writeFileAtomic } from '../util/atomic-file.js';
import type { BackupStore } from './backup-store.js';
import { type ContentHash, hashStream } from './content-hash.js';
import { homeserverPathOf } from './safe-path.js';

/** What the backup knows about one file. */
export interface IndexEntry {
  /** Homeserver path, `/pub/…`. */
  path: string;
  size: number;
  /** BLAKE3 of the content, base64 (standard, padded) — the homeserver's `content_hash`. */
  blake3: string;
  etag?: string;
  /** Cursor of the event that brought this version. */
  cursor: string;
  /**
   * Modification time of the file when it was written (ms since the epoch). A file whose size or
   * mtime differs from its entry was touched since: its bytes are hashed again before trusted.
   */
  mtimeMs?: number;
}

/** One change in the index journal. */
export type JournalLine = { set: IndexEntry } | { del: string };

/**
 * The per-key file index: an append-only JSONL journal (`{"set":entry}` / `{"del":path}`) replayed
 * into a Map at open. Changes stay in memory until `flush`, which appends and fsyncs them — the sync
 * engine flushes before it persists its cursor. A torn last line (a crash mid-append) is ignored. The
 * journal is rewritten atomically when its dead lines exceed twice the live entries. One writer per
 * file (the daemon's instance lock ensures it); any number of readers.
 */
export class FileIndex {
  /** Changes since the last flush: an entry, or null for a deletion. */
  private pending = new Map<string, IndexEntry | null>();
  private flushing: Promise<void> = Promise.resolve();
  /** Batches taken by flushes not finished yet, oldest first. */
  private readonly inflight: Array<Map<string, IndexEntry | null>> = [];

  private constructor(
    private readonly file: string,
    private readonly live: Map<string, IndexEntry>,
    /** Lines in the journal file. */
    private lines: number,
    /** The journal ends in a torn line: the next flush rewrites it rather than append to it. */
    private torn: boolean,
  ) {}

  /**
   * Loads the journal. Opening never writes, so a reader (`status`) cannot race the one writer (the
   * sync engine); a torn tail or a journal grown mostly dead is rewritten by the next `flush`.
   */
  static async open(file: string): Promise<FileIndex> {
    const { entries, lines, torn } = await loadJournal(file);
    return new FileIndex(file, entries, lines, torn);
  }

  get size(): number {
    return this.live.size;
  }

  get(path: string): IndexEntry | undefined {
    const entry = this.live.get(path);
    return entry && { ...entry };
  }

  set(entry: IndexEntry): void {
    // The path is often a slice of the feed message it came in (the ETag one of its header), which
    // it would keep alive for as long as the entry lives (~180 B per file): the index keeps copies.
    const copy = { ...entry, path: ownCopy(entry.path) };
    if (entry.etag !== undefined) copy.etag = ownCopy(entry.etag);
    this.live.set(copy.path, copy);
    this.pending.set(copy.path, copy);
  }

  delete(path: string): boolean {
    const existed = this.live.delete(path);
    if (existed) this.pending.set(path, null);
    return existed;
  }

  *entries(): IterableIterator<IndexEntry> {
    for (const entry of this.live.values()) yield { ...entry };
  }

  /** Appends the buffered changes and fsyncs; rewrites the journal when it has grown mostly dead. */
  flush(): Promise<void> {
    return this.flushAfter(Promise.resolve());
  }

  /**
   * Takes the changes buffered so far, now, and writes them once `ready` resolves — the promise
   * that the files they describe are durable (`BackupStore.flush`, called in the same tick). Changes
   * made meanwhile wait for the next flush, so the journal never vouches for a file whose folder
   * entry is not yet on disk. On failure the changes stay buffered.
   */
  flushAfter(ready: Promise<unknown>): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.inflight.push(batch);
    const run = this.flushing.then(async () => {
      try {
        await ready;
        await this.write(batch);
      } catch (error) {
        // Keep the batch, under any change made meanwhile (buffered, or taken by a later flush).
        const later = this.inflight.slice(this.inflight.indexOf(batch) + 1);
        for (const [path, entry] of batch) {
          if (!this.pending.has(path) && !later.some((b) => b.has(path))) this.pending.set(path, entry);
        }
        throw error;
      } finally {
        this.inflight.splice(this.inflight.indexOf(batch), 1);
      }
    });
    this.flushing = run.catch(() => {});
    return run;
  }

  /** Changes not yet written (a checkpoint writes them when it is worth it). */
  get unflushed(): number {
    return this.pending.size;
  }

  private async write(batch: Map<string, IndexEntry | null>): Promise<void> {
    const dead = this.lines + batch.size - this.live.size;
    if (this.torn || dead > this.live.size * 2) {
      // The live state as of this batch: a path changed again since keeps this batch's value.
      const rows = new Map<string, IndexEntry>();
      for (const entry of this.live.values()) if (!this.pending.has(entry.path)) rows.set(entry.path, entry);
      for (const [path, entry] of batch) if (entry && this.pending.has(path)) rows.set(path, entry);
      await writeJournal(this.file, rows.values());
      this.lines = rows.size;
      this.torn = false;
    } else if (batch.size > 0) {
      const changes = [...batch].map(([path, entry]) => (entry ? { set: entry } : { del: path }));
      try {
        await appendDurably(this.file, changes.map(journalLine).join(''));
      } catch (error) {
        // A short write (full disk) may have left a partial line: the next flush rewrites the file.
        this.torn = true;
        throw error;
      }
      this.lines += batch.size;
    }
  }
}

/** Hash of a stored file, for `rebuildIndex`. */
export type HashStoredFile = (storePath: string) => Promise<ContentHash>;

/** How the files on disk differ from the index they are compared with. */
export interface IndexDifference {
  path: string;
  /** `added`: on disk, not indexed; `changed`: other bytes than indexed; `removed`: indexed, not on disk. */
  change: 'added' | 'changed' | 'removed';
  before?: { size: number; blake3: string };
  after?: { size: number; blake3: string };
}

/**
 * Rebuilds the index from the files under `data/` (`pubky-backup reindex`). A file whose size and
 * hash match its old entry keeps that entry (cursor, ETag); a file the index did not know is added
 * with `cursor` (the key's current cursor: the event that wrote it is unknown). Differences from the
 * old index — bytes that changed, files that are gone — are reported and adopted only with
 * `accept`: without it those entries stay as they were, so the next sync fetches the homeserver's
 * bytes again instead of vouching for damaged ones.
 */
export async function rebuildIndex(
  store: BackupStore,
  file: string,
  options: { cursor: string; hash?: HashStoredFile; accept?: boolean },
): Promise<{ index: FileIndex; differences: IndexDifference[] }> {
  const hash = options.hash ?? ((storePath: string) => hashStream(store.read(storePath)));
  const old = await loadJournal(file).catch(() => ({ entries: new Map<string, IndexEntry>() }));
  const rebuilt = new Map<string, IndexEntry>();
  const differences: IndexDifference[] = [];
  for (const { storePath } of await store.listData()) {
    const path = homeserverPathOf(storePath);
    if (!path.startsWith('/pub/')) continue; // not something the homeserver can hold
    const { blake3, size } = await hash(storePath);
    const before = old.entries.get(path);
    const info = await store.fileInfo(storePath.replace(/\/%2E$/, ''));
    const mtime = info?.mtimeMs !== undefined ? { mtimeMs: info.mtimeMs } : {};
    if (before !== undefined && before.blake3 === blake3 && before.size === size) {
      rebuilt.set(path, { ...before, ...mtime });
      continue;
    }
    const after = { size, blake3 };
    differences.push(
      before ? { path, change: 'changed', before: pick(before), after } : { path, change: 'added', after },
    );
    // Not adopted: the entry stays, marked suspect (mtime -1 never matches) so the next sync hashes
    // the file, finds it is not the backed-up bytes and fetches them again.
    if (before && !options.accept) rebuilt.set(path, { ...before, mtimeMs: -1 });
    else rebuilt.set(path, { path, size, blake3, cursor: options.cursor, ...mtime });
  }
  for (const [path, before] of old.entries) {
    if (rebuilt.has(path)) continue;
    differences.push({ path, change: 'removed', before: pick(before) });
    if (!options.accept) rebuilt.set(path, before);
  }
  await writeJournal(file, rebuilt.values());
  return { index: await FileIndex.open(file), differences };
}

function pick(entry: IndexEntry): { size: number; blake3: string } {
  return { size: entry.size, blake3: entry.blake3 };
}

async function loadJournal(
  file: string,
): Promise<{ entries: Map<string, IndexEntry>; lines: number; torn: boolean }> {
  const entries = new Map<string, IndexEntry>();
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries, lines: 0, torn: false };
    throw error;
  }
  // Everything after the last newline is a torn append (a crash mid-flush): ignored.
  const end = bytes.lastIndexOf(0x0a) + 1;
  let lines = 0;
  for (const line of bytes.subarray(0, end).toString('utf8').split('\n')) {
    if (line === '') continue;
    lines++;
    const change = parseLine(line);
    if (!change) continue; // a damaged line counts as dead and goes at the next compaction
    if ('set' in change) entries.set(change.set.path, change.set);
    else entries.delete(change.del);
  }
  return { entries, lines, torn: end < bytes.length };
}

/** The journal as it was when opened, read change by change without holding it in memory. */
export interface JournalReader {
  /** Every change in order (damaged lines skipped, a torn last line ignored), then closes. */
  changes(): AsyncGenerator<JournalLine>;
  close(): Promise<void>;
}

/**
 * Opens the index journal for streaming (snapshots of very large backups): its length is taken
 * now, so appends and compactions after this call are not seen. A missing journal has no changes.
 */
export async function openJournal(file: string): Promise<JournalReader> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const length = handle ? (await handle.stat()).size : 0;
  const close = async () => {
    await handle?.close();
    handle = undefined;
  };
  return {
    close,
    async *changes() {
      try {
        const chunk = Buffer.allocUnsafe(1024 * 1024);
        // Bytes after the last newline so far: a line (or a character) split across reads.
        let carry = Buffer.alloc(0);
        for (let at = 0; handle && at < length; ) {
          const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, length - at), at);
          if (bytesRead === 0) break;
          at += bytesRead;
          const end = chunk.lastIndexOf(0x0a, bytesRead - 1) + 1;
          if (end === 0) {
            carry = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
            continue;
          }
          const lines = Buffer.concat([carry, chunk.subarray(0, end)])
            .toString('utf8')
            .split('\n');
          carry = Buffer.from(chunk.subarray(end, bytesRead));
          lines.pop(); // '' after the last newline
          for (const line of lines) {
            const change = line === '' ? undefined : parseLine(line);
            if (change) yield change;
          }
        }
        // `carry` is a torn last line (no newline): ignored, as when the journal is loaded.
      } finally {
        await close();
      }
    },
  };
}

function parseLine(line: string): JournalLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { set, del } = value as { set?: unknown; del?: unknown };
  if (typeof del === 'string') return { del };
  return isIndexEntry(set) ? { set } : undefined;
}

function isIndexEntry(value: unknown): value is IndexEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.path === 'string' &&
    typeof entry.size === 'number' &&
    typeof entry.blake3 === 'string' &&
    typeof entry.cursor === 'string' &&
    (entry.etag === undefined || typeof entry.etag === 'string') &&
    (entry.mtimeMs === undefined || typeof entry.mtimeMs === 'number')
  );
}

function journalLine(change: JournalLine): string {
  return `${JSON.stringify(change)}\n`;
}

async function writeJournal(file: string, entries: Iterable<IndexEntry>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  let text = '';
  for (const entry of entries) text += journalLine({ set: entry });
  await writeFileAtomic(file, text);
}

async function appendDurably(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const handle = await open(file, 'a');
  let created = false;
  try {
    created = (await handle.stat()).size === 0;
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) await fsyncDir(dirname(file));
}

/**
 * A string that holds only its own characters. V8 represents a substring of 13 or more characters
 * as a slice that keeps the whole parent string alive (for a path taken from an event, the event's
 * whole text); encoding and decoding makes a flat copy.
 */
function ownCopy(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}
