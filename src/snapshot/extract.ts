import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DATA_PREFIX, hasControlChar, MAX_SEGMENT_BYTES, SELF_ENTRY, storePathOf } from '../store/index.js';
import { newBlake3 } from '../util/blake3.js';
import { readManifest } from './check.js';
import { SnapshotError } from './errors.js';
import { MANIFEST_NAME } from './manifest.js';
import { openZip, startsLikeZip } from './zip-reader.js';

export interface ExtractFailure {
  entry: string;
  reason: string;
}

export interface ExtractResult {
  dir: string;
  files: number;
  bytes: number;
  /** Entries that could not be extracted, each with why; the others were. */
  failed: ExtractFailure[];
  /**
   * Entries extracted as archived although the manifest records them as damaged when archived
   * (not the backed-up bytes): the caller reports them, as `snapshot check` does.
   */
  damaged: string[];
}

/**
 * Extracts a snapshot into `dir` as the backup's own mirror is laid out (`dir/pub/…`, names
 * escaped and mapped exactly as in `data/`: see `storePathOf`; a file whose name is also a folder
 * goes inside it as `%2E`). Every entry name is checked before anything is written: absolute names,
 * `..`, backslashes, drive letters, NUL and control characters refuse the whole archive (zip-slip).
 * Then every entry that can be read is extracted, verified against the manifest's BLAKE3 while it is
 * written (in a temp folder inside `dir`, so no name is ever lengthened), and moved into place; each
 * entry that cannot is listed in `failed`, and extraction goes on. Throws `SnapshotError` only when
 * the archive cannot be opened or has no manifest.
 */
export async function extractSnapshot(
  file: string,
  dir: string,
  options: { onProgress?: (done: number, total: number) => void } = {},
): Promise<ExtractResult> {
  const root = resolve(dir);
  let names: string[];
  try {
    names = await scanNames(file);
  } catch (error) {
    if (!(error instanceof SnapshotError) || error.code !== 'DAMAGED') throw error;
    // Cut short: the list of entries (at the end) is gone, and with it any safe way to read them.
    return {
      dir: root,
      files: 0,
      bytes: 0,
      failed: [
        {
          entry: '(the whole archive)',
          reason: `${error.message} Nothing could be extracted safely; use an older snapshot.`,
        },
      ],
      damaged: [],
    };
  }
  const unsafe = names.filter((name) => name !== MANIFEST_NAME && !name.endsWith('/') && !segmentsOf(name));
  if (unsafe.length > 0) {
    throw new SnapshotError(
      'UNSAFE_ENTRY',
      `${file} has entries that are not backup paths and could be written outside ${root}: ${unsafe
        .slice(0, 5)
        .map((n) => JSON.stringify(n))
        .join(', ')}. Nothing was extracted.`,
    );
  }
  const manifestZip = await openZip(file);
  const manifest = await readManifest(manifestZip, file).finally(() => manifestZip.close());
  const hashes = new Map(manifest.files.map((f) => [f.path.replace(/^\/+/, ''), f.blake3]));
  const recordedDamaged = new Set((manifest.damaged ?? []).map((d) => d.path.replace(/^\/+/, '')));
  const total = names.filter((name) => name !== MANIFEST_NAME && !name.endsWith('/')).length;

  const temp = join(root, `.pubky-backup-extract-${randomBytes(4).toString('hex')}`);
  await mkdir(temp, { recursive: true });
  const result: ExtractResult = { dir: root, files: 0, bytes: 0, failed: [], damaged: [] };
  const zip = await openZip(file);
  let n = 0;
  try {
    for await (const entry of zip.entries()) {
      if (entry.fileName === MANIFEST_NAME || entry.fileName.endsWith('/')) continue;
      const part = join(temp, `${n++}.part`);
      try {
        const segments = segmentsOf(entry.fileName) as string[];
        const hasher = await newBlake3();
        let size = 0;
        const hashing = new Transform({
          transform(chunk: Buffer, _encoding, next) {
            hasher.update(chunk);
            size += chunk.length;
            next(null, chunk);
          },
        });
        await pipeline(await zip.read(entry), hashing, createWriteStream(part));
        const expected = hashes.get(entry.fileName);
        if (expected === undefined) throw new Error('not listed in the manifest');
        if (hasher.digest() !== expected) throw new Error('its bytes do not match the manifest (damaged)');
        await place(root, temp, storePathOf(segments).slice(DATA_PREFIX.length + 1), part);
        result.files++;
        result.bytes += size;
        if (recordedDamaged.has(entry.fileName)) result.damaged.push(entry.fileName);
      } catch (error) {
        result.failed.push({ entry: entry.fileName, reason: (error as Error).message });
      } finally {
        await rm(part, { force: true });
        options.onProgress?.(result.files + result.failed.length, total);
      }
    }
  } catch (error) {
    // The central directory itself is damaged: what was extracted stays, the rest is reported.
    result.failed.push({ entry: '(rest of the archive)', reason: (error as Error).message });
  } finally {
    zip.close();
    await rm(temp, { recursive: true, force: true });
  }
  return result;
}

/**
 * Every entry name of the archive. A ZIP whose list of entries cannot be read (cut short) is
 * `DAMAGED`; a file that is no ZIP at all is `NOT_A_SNAPSHOT`.
 */
async function scanNames(file: string): Promise<string[]> {
  let zip: Awaited<ReturnType<typeof openZip>>;
  try {
    zip = await openZip(file);
  } catch (error) {
    if (!(await startsLikeZip(file))) throw error;
    throw new SnapshotError(
      'DAMAGED',
      `${file} is cut short or damaged: its list of entries cannot be read.`,
    );
  }
  const names: string[] = [];
  try {
    for await (const entry of zip.entries()) names.push(entry.fileName);
  } catch (error) {
    // yauzl itself refuses absolute and `..` names while reading the directory.
    const message = (error as Error).message;
    if (/invalid relative path|absolute path|invalid characters/i.test(message)) {
      throw new SnapshotError(
        'UNSAFE_ENTRY',
        `${file} has an entry that would be written outside the target folder (${message}). Nothing was extracted.`,
      );
    }
    throw new SnapshotError(
      'DAMAGED',
      `${file} is damaged: its list of entries cannot be read (${message}).`,
    );
  } finally {
    zip.close();
  }
  return names;
}

/** The homeserver path segments of an entry name `pub/…`, or undefined when it is not a safe one. */
function segmentsOf(name: string): string[] | undefined {
  const segments = name.split('/');
  if (segments[0] !== 'pub' || segments.length < 2) return undefined;
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') return undefined;
    if (/[\0\\]/.test(segment) || hasControlChar(segment)) return undefined;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return undefined;
  }
  return segments;
}

/**
 * Moves a verified temp file to `root/<rel>`. A file standing where a folder must be moves into
 * that folder as `SELF_ENTRY`; an existing folder at the target takes the file as `SELF_ENTRY`.
 */
async function place(root: string, temp: string, rel: string, part: string): Promise<void> {
  const parts = rel.split('/');
  for (let depth = 1; depth < parts.length; depth++) {
    const ancestor = join(root, ...parts.slice(0, depth));
    const kind = await kindOf(ancestor);
    if (kind === undefined) break;
    if (kind === 'file') {
      const hold = join(temp, `${randomBytes(4).toString('hex')}.hold`);
      await rename(ancestor, hold);
      await mkdir(ancestor);
      await rename(hold, join(ancestor, SELF_ENTRY));
    }
  }
  let target = join(root, ...parts);
  if ((await kindOf(target)) === 'dir') target = join(target, SELF_ENTRY);
  await mkdir(dirname(target), { recursive: true });
  await rename(part, target);
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const stats = await lstat(path);
    return stats.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}
