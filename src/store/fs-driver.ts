import '../util/thread-pool.js';
import { constants, createReadStream, mkdirSync, renameSync, statSync } from 'node:fs';
import { copyFile, link, lstat, open, readdir, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Operator } from 'opendal';
import { fsyncDir } from '../util/atomic-file.js';
import type { StoreDriver } from './driver.js';
import { openFdWriter } from './fd-writer.js';
import { linkTree, readSmallSync, removeTreeSync, walkSorted } from './fs-tree.js';

/**
 * The local-folder driver. OpenDAL's fs service fsyncs a file when its writer closes, but never a
 * folder after a rename or mkdir, so folders are synced here with node:fs. A version is a hard link
 * (no copy, and the live name never goes missing); where links are not supported it is a copy.
 *
 * The per-file metadata calls of a download (stat, mkdir, open, rename; fstat and close in
 * `openFdWriter`) run on the calling thread: on a local disk each takes a few µs, while a trip
 * through libuv's thread pool costs tens of µs of this thread's time and two context switches.
 * Data writes and fsyncs, which can take milliseconds, stay in the pool.
 */
export function fsDriver(keyDir: string): StoreDriver {
  const operator = new Operator('fs', { root: keyDir });
  const abs = (path: string) => (path === '' ? keyDir : join(keyDir, ...path.split('/')));
  const madeDirs = new Set<string>();
  const ensureDir = (folder: string) => {
    if (madeDirs.has(folder)) return;
    mkdirSync(folder, { recursive: true });
    madeDirs.add(folder);
  };
  let scratch = Buffer.alloc(0);
  return {
    operator,
    linkTree: (from, to) => linkTree(abs(from), abs(to)),
    *walkFiles(prefix) {
      for (const path of walkSorted(abs(prefix))) yield `${prefix}/${path}`;
    },
    readSmallSync(path, max) {
      if (scratch.length < max + 1) scratch = Buffer.allocUnsafe(max + 1);
      return readSmallSync(abs(path), max, scratch);
    },
    removeTree: (prefix) => removeTreeSync(abs(prefix)),
    syncFile: (path) => syncFile(abs(path)),
    syncDir: (path) => fsyncDir(abs(path)),
    openRead: (path) => createReadStream(abs(path), { highWaterMark: 256 * 1024 }),
    readWhole: (path) => readFile(abs(path)),
    async openWrite(path) {
      ensureDir(dirname(abs(path)));
      return openFdWriter(abs(path));
    },
    async entryAt(path) {
      try {
        const stats = statSync(abs(path), { throwIfNoEntry: false });
        if (stats === undefined) return undefined;
        if (stats.isFile()) return { kind: 'file', size: stats.size, mtimeMs: stats.mtimeMs };
        return stats.isDirectory() ? { kind: 'dir' } : undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
        throw error;
      }
    },
    async fileInfo(path) {
      try {
        const stats = await lstat(abs(path));
        return stats.isFile() ? { size: stats.size, mtimeMs: stats.mtimeMs } : undefined;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw error;
      }
    },
    async remove(path) {
      await unlink(abs(path)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    },
    async move(from, to) {
      ensureDir(dirname(abs(to)));
      renameSync(abs(from), abs(to));
    },
    async listFiles(prefix) {
      const files: Array<{ path: string; size: number }> = [];
      await walk(abs(prefix), prefix, files);
      return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    async keepCopy(from, to) {
      // Many copies land in the same few folders (snapshot staging): create each folder once.
      ensureDir(dirname(abs(to)));
      try {
        await link(abs(from), abs(to));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw error;
        await copyFile(abs(from), abs(to), constants.COPYFILE_EXCL);
        await syncFile(abs(to));
      }
    },
  };
}

async function syncFile(file: string): Promise<void> {
  // Opened for writing: Windows refuses to flush a read-only handle.
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Files (not folders or links) below `dir`, as `/`-joined paths starting with `prefix`. */
async function walk(dir: string, prefix: string, out: Array<{ path: string; size: number }>): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const files = entries.filter((entry) => entry.isFile());
  // Sizes of one folder's files at once: each lstat is a thread-pool round trip.
  const sizes = await Promise.all(files.map(async (entry) => (await lstat(join(dir, entry.name))).size));
  files.forEach((entry, i) => {
    out.push({ path: `${prefix}/${entry.name}`, size: sizes[i] as number });
  });
  for (const entry of entries) {
    if (entry.isDirectory()) await walk(join(dir, entry.name), `${prefix}/${entry.name}`, out);
  }
}
