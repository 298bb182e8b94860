import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  statfs,
  symlink,
  unlink,
  utimes,
} from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { BackupError } from '../errors.js';
import { fsyncDir, writeFileAtomic } from '../util/atomic-file.js';
import { listKeys } from './layout.js';
import { acquireWriteLock } from './write-lock.js';

/**
 * Moving the backup (the key folders, `<data dir>/keys/`) to another folder or disk, like the
 * original app's "backup location": `keys` becomes a symbolic link to the new place, so every
 * other module keeps its paths. Settings, locks and the daemon's files stay in the data dir.
 *
 * Crash-safe through a journal (`<data dir>/backup-move.json`): until the copy is complete and
 * verified the old copy is the backup; after it, the switch is finished by whoever opens the data
 * dir next (`finishBackupMove`). The old copy is removed only after `keys` names the new one.
 */

export interface BackupLocation {
  /** The real folder holding the key folders. */
  path: string;
  /** False while it is the default, `<data dir>/keys`. */
  moved: boolean;
}

export interface MoveProgress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

export interface MovedBackup {
  from: string;
  to: string;
  files: number;
  bytes: number;
  /** Same file system: renamed in one step, nothing copied. */
  renamed: boolean;
}

interface MoveJournal {
  /** The real folder the backup was in. */
  from: string;
  /** Where it goes (`<data dir>/keys.next` when it goes back to the default place). */
  to: string;
  /** The user's target, as given. */
  target: string;
  phase: 'copying' | 'copied';
  startedAt: string;
}

const JOURNAL = 'backup-move.json';

/** Where the key folders are now. */
export async function backupLocation(dataDir: string): Promise<BackupLocation> {
  const keys = join(dataDir, 'keys');
  const info = await lstat(keys).catch(() => undefined);
  if (info?.isSymbolicLink()) return { path: await realpath(keys), moved: true };
  return { path: keys, moved: false };
}

/**
 * Moves the backup to `target` (created when missing; it must be empty), with progress. The
 * caller holds the instance lock and no sync, snapshot or check runs meanwhile. On the same file
 * system it is one rename; otherwise every file is copied, fsynced, given its old mtime (the index
 * compares it) and its size checked, before anything is switched. Stopped by `signal` or an error
 * before the switch, the copy is removed and the backup stays where it was.
 * Errors: `SAME_LOCATION`, `TARGET_INSIDE_BACKUP`, `TARGET_NOT_EMPTY`, `NOT_ENOUGH_SPACE`,
 * `MOVE_UNFINISHED` (a journal that `finishBackupMove` could not complete), and disk errors.
 */
export async function moveBackup(
  dataDir: string,
  target: string,
  options: { onProgress?: (progress: MoveProgress) => void; signal?: AbortSignal } = {},
): Promise<MovedBackup> {
  await finishBackupMove(dataDir);
  const keys = join(dataDir, 'keys');
  const current = await backupLocation(dataDir);
  const wanted = resolve(target);
  const home = wanted === keys;
  if (wanted === current.path || (home && !current.moved)) {
    throw new BackupError('SAME_LOCATION', `The backup is already in ${current.path}.`, 'usage');
  }
  const realWanted = home ? wanted : await realTarget(wanted);
  if (isInside(realWanted, current.path) || isInside(current.path, realWanted)) {
    throw new BackupError(
      'TARGET_INSIDE_BACKUP',
      `${wanted} and the backup folder ${current.path} contain one another: choose a folder outside it.`,
      'usage',
    );
  }
  const to = home ? join(dataDir, 'keys.next') : wanted;
  if (!home) await requireEmpty(wanted);
  await rm(join(dataDir, 'keys.next'), { recursive: true, force: true });
  // Every key's write lock, held until `keys` names the new place: a snapshot or restore started
  // by another process meanwhile waits, then writes to the new place, never to the old copy.
  const releases: Array<() => Promise<void>> = [];
  try {
    for (const pubky of await listKeys(dataDir)) {
      // Through `keys`, so that releasing after the switch finds a lock that moved with a rename.
      releases.push(
        await acquireWriteLock(join(keys, pubky, 'state'), {
          command: 'moving the backup',
          signal: options.signal,
        }),
      );
    }
    return await moveLocked(dataDir, current, to, home, wanted, options);
  } finally {
    for (const release of releases) await release().catch(() => {});
  }
}

async function moveLocked(
  dataDir: string,
  current: BackupLocation,
  to: string,
  home: boolean,
  wanted: string,
  options: { onProgress?: (progress: MoveProgress) => void; signal?: AbortSignal },
): Promise<MovedBackup> {
  const keys = join(dataDir, 'keys');
  const totals = await measure(current.path);
  await mkdir(dirname(to), { recursive: true });

  const journal: MoveJournal = {
    from: current.path,
    to,
    target: wanted,
    phase: 'copying',
    startedAt: new Date().toISOString(),
  };
  await writeJournal(dataDir, journal);
  let renamed = false;
  try {
    await rmdir(to).catch(() => {});
    renamed = await rename(current.path, to).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EXDEV') return false;
        throw error;
      },
    );
    if (renamed) {
      // The old place is gone already: a default `keys` folder has moved, a link now names nothing.
      await fsyncDir(dirname(current.path));
    } else {
      await requireSpace(dirname(to), totals.totalBytes);
      const progress: MoveProgress = { ...totals, files: 0, bytes: 0 };
      await copyTree(current.path, to, progress, options);
    }
    await fsyncDir(dirname(to));
    await writeJournal(dataDir, { ...journal, phase: 'copied' });
  } catch (error) {
    if (!renamed) await undoCopy(dataDir, journal);
    throw error;
  }
  await switchTo(dataDir, { ...journal, phase: 'copied' });
  return {
    from: current.path,
    to: home ? keys : to,
    files: totals.totalFiles,
    bytes: totals.totalBytes,
    renamed,
  };
}

/**
 * Completes or undoes a move a crash interrupted (called when the data dir is opened with its
 * instance lock held): an unfinished copy is removed, the old backup kept; a finished copy is
 * switched to and the old one removed. Nothing to do without a journal.
 */
export async function finishBackupMove(dataDir: string): Promise<void> {
  const journal = await readJournal(dataDir);
  if (!journal) return;
  if (journal.phase === 'copying') {
    const fromThere = await exists(journal.from);
    if (fromThere || !(await exists(journal.to))) {
      await undoCopy(dataDir, journal);
      return;
    }
    // The one-step rename had happened: the backup is complete in its new place.
  }
  await switchTo(dataDir, { ...journal, phase: 'copied' });
}

/** Makes `keys` name `journal.to`, then removes the old copy and the journal. Every step may be repeated. */
async function switchTo(dataDir: string, journal: MoveJournal): Promise<void> {
  const keys = join(dataDir, 'keys');
  const next = join(dataDir, 'keys.next');
  const old = join(dataDir, 'keys.old');
  const home = journal.to === next;
  const keysInfo = await lstat(keys).catch(() => undefined);
  const done = home
    ? keysInfo?.isDirectory() === true && !(await exists(next))
    : keysInfo?.isSymbolicLink() === true &&
      (await realpath(keys).catch(() => '')) === (await realpath(journal.to).catch(() => '?'));
  if (!done) {
    if (!home) {
      await rm(next, { recursive: true, force: true });
      await symlink(journal.to, next, 'dir');
    }
    if (keysInfo?.isSymbolicLink() && home) await unlink(keys);
    // A default `keys` folder still there (copied, not renamed) is set aside until the switch is durable.
    if (keysInfo?.isDirectory()) await rename(keys, old);
    await rename(next, keys);
    await fsyncDir(dataDir);
  }
  // The old copy: the default folder set aside, or the folder a link named before.
  await rm(old, { recursive: true, force: true });
  if (journal.from !== keys && (await exists(journal.from)) && !isSame(journal.from, journal.to)) {
    await rm(journal.from, { recursive: true, force: true });
  }
  await rm(join(dataDir, JOURNAL), { force: true });
  await fsyncDir(dataDir);
}

/** Removes a copy that was not finished: only what the move made (`to` was empty or absent). */
async function undoCopy(dataDir: string, journal: MoveJournal): Promise<void> {
  if (journal.to === join(dataDir, 'keys.next')) {
    await rm(journal.to, { recursive: true, force: true });
  } else {
    for (const name of await readdir(journal.to).catch(() => [] as string[])) {
      await rm(join(journal.to, name), { recursive: true, force: true });
    }
  }
  await rm(join(dataDir, JOURNAL), { force: true });
}

/** Copies `from` into `to` file by file: fsynced, mtime kept, size checked. */
async function copyTree(
  from: string,
  to: string,
  progress: MoveProgress,
  options: { onProgress?: (progress: MoveProgress) => void; signal?: AbortSignal },
  depth = 0,
): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    options.signal?.throwIfAborted();
    const source = join(from, entry.name);
    const dest = join(to, entry.name);
    if (entry.isDirectory()) {
      // The write locks held by this move stay behind: the new place starts unlocked.
      if (isWriteLock(from, entry.name, depth)) continue;
      await copyTree(source, dest, progress, options, depth + 1);
      continue;
    }
    if (!entry.isFile()) continue; // the backup writes only files and folders
    const info = await lstat(source);
    await copyFile(source, dest, constants.COPYFILE_EXCL);
    const handle = await open(dest, 'r+');
    try {
      await handle.sync();
      const copied = await handle.stat();
      if (copied.size !== info.size) {
        throw new BackupError(
          'COPY_DAMAGED',
          `Copying ${source} gave ${copied.size} bytes, not ${info.size}.`,
          'unavailable',
        );
      }
    } finally {
      await handle.close();
    }
    await utimes(dest, info.atime, info.mtime);
    progress.files++;
    progress.bytes += info.size;
    options.onProgress?.({ ...progress });
  }
  await fsyncDir(to);
}

/** `<z32>/state/write.lock/`: a key's write lock, which this move holds (depth: 0 in the backup root). */
function isWriteLock(folder: string, name: string, depth: number): boolean {
  return depth === 2 && name === 'write.lock' && folder.endsWith(`${sep}state`);
}

async function measure(dir: string): Promise<MoveProgress> {
  const totals: MoveProgress = { files: 0, bytes: 0, totalFiles: 0, totalBytes: 0 };
  const walk = async (folder: string, depth: number) => {
    for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!isWriteLock(folder, entry.name, depth)) await walk(path, depth + 1);
      } else if (entry.isFile()) {
        totals.totalFiles++;
        totals.totalBytes += (await lstat(path)).size;
      }
    }
  };
  await walk(dir, 0);
  return totals;
}

async function requireEmpty(dir: string): Promise<void> {
  let info: Stats;
  try {
    info = await lstat(dir);
  } catch {
    return; // created by the move
  }
  if (!info.isDirectory() || (await readdir(dir)).length > 0) {
    throw new BackupError(
      'TARGET_NOT_EMPTY',
      `${dir} is not an empty folder: choose a new or empty folder, so nothing there is mixed with the backup.`,
      'usage',
    );
  }
}

async function requireSpace(dir: string, bytes: number): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  // Room for the backup plus 1% and 64 MB, so the disk is not left full.
  const needed = Math.ceil(bytes * 1.01) + 64 * 1024 * 1024;
  if (free < needed) {
    throw new BackupError(
      'NOT_ENOUGH_SPACE',
      `${dir} has ${free} bytes free; the backup needs ${needed}. Free space there or choose another disk; nothing was moved.`,
      'unavailable',
      { free, needed },
    );
  }
}

/** The real path of `path`, or of its nearest existing parent joined with the rest. */
async function realTarget(path: string): Promise<string> {
  let existing = path;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(await realpath(existing), ...rest.reverse());
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return path;
      rest.push(relative(parent, existing));
      existing = parent;
    }
  }
}

function isInside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

function isSame(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function readJournal(dataDir: string): Promise<MoveJournal | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, JOURNAL), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const journal = JSON.parse(text) as MoveJournal;
    if (typeof journal.from === 'string' && typeof journal.to === 'string') return journal;
  } catch {
    // fall through
  }
  throw new BackupError(
    'MOVE_UNFINISHED',
    `${join(dataDir, JOURNAL)} records a backup move but cannot be read. The backup is in ${await backupLocation(dataDir).then((l) => l.path)}; ` +
      'remove that file once you have checked the folders.',
    'invalid',
  );
}

async function writeJournal(dataDir: string, journal: MoveJournal): Promise<void> {
  await writeFileAtomic(join(dataDir, JOURNAL), `${JSON.stringify(journal, null, 2)}\n`);
}
