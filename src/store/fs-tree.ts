import {
  closeSync,
  type Dirent,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmdirSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { TimeSlicer } from '../util/time-slice.js';

/**
 * Whole-tree operations of the fs driver for snapshots, done with synchronous system calls in
 * time slices (see `TimeSlicer`): for a tree of many small files, one syscall on this thread
 * costs a few µs, one trip through libuv's thread pool several times that.
 */

/** Entries of a folder in the order their `/`-joined paths sort (a folder sorts as `name/`). */
function sortedEntries(dir: string): Dirent[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  const key = (entry: Dirent) => (entry.isDirectory() ? `${entry.name}/` : entry.name);
  return entries.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/**
 * Every file below `root` (not folders or links), depth first in sorted path order, as paths
 * relative to `root` joined with `/`. Memory: one folder's listing per level.
 */
export function* walkSorted(root: string, base = ''): Generator<string> {
  let entries: Dirent[];
  try {
    entries = sortedEntries(base === '' ? root : join(root, ...base.split('/')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const path = base === '' ? entry.name : `${base}/${entry.name}`;
    if (entry.isFile()) yield path;
    else if (entry.isDirectory()) yield* walkSorted(root, path);
  }
}

/**
 * Hard-links every file below `from` to the same place below `to` (folders created), so the copy
 * stays as it is while `from` changes by rename. Returns how many files were linked.
 */
export async function linkTree(from: string, to: string): Promise<number> {
  const slicer = new TimeSlicer();
  let files = 0;
  const made = new Set<string>();
  for (const path of walkSorted(from)) {
    const slash = path.lastIndexOf('/');
    const folder = slash === -1 ? '' : path.slice(0, slash);
    if (!made.has(folder)) {
      mkdirSync(join(to, ...folder.split('/')), { recursive: true });
      made.add(folder);
    }
    linkSync(join(from, ...path.split('/')), join(to, ...path.split('/')));
    files++;
    const wait = slicer.check();
    if (wait) await wait;
  }
  if (!made.has('')) mkdirSync(to, { recursive: true });
  return files;
}

/**
 * A file of at most `max` bytes, whole, as a view of `scratch` (at least `max + 1` bytes; the view
 * is valid until the next call); `'large'` when it holds more (stream it then). Three system
 * calls: open, read, close.
 */
export function readSmallSync(file: string, max: number, scratch: Buffer): Buffer | 'large' {
  const fd = openSync(file, 'r');
  try {
    let got = 0;
    for (;;) {
      const n = readSync(fd, scratch, got, max + 1 - got, got);
      if (n === 0) break;
      got += n;
      if (got > max) return 'large';
    }
    return scratch.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Removes a folder and everything below it; nothing when it does not exist. */
export async function removeTreeSync(root: string): Promise<void> {
  const slicer = new TimeSlicer();
  const remove = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await remove(path);
      else unlinkSync(path);
      const wait = slicer.check();
      if (wait) await wait;
    }
    rmdirSync(dir);
  };
  await remove(root);
}
