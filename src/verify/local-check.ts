import { checkSnapshot, listSnapshots, openZip, readManifest, SnapshotError } from '../snapshot/index.js';
import {
  type BackupStore,
  compareWithIndex,
  FileIndex,
  hashStream,
  type KeyLayout,
  RetryFileError,
  RetryQueue,
  readCursorState,
} from '../store/index.js';
import { listVersions } from '../versions/index.js';

/** One thing `check` found wrong with a backup. */
export interface LocalProblem {
  /** Which part of the backup: the mirror, previous versions, the retry queue, the cursor, a snapshot. */
  area: 'data' | 'versions' | 'retry' | 'cursor' | 'snapshots';
  /** Homeserver path, version or snapshot file. */
  item: string;
  problem: string;
  detail: string;
  /** `check --repair` can fix it by fetching the file again from the homeserver. */
  repairable: boolean;
}

export interface LocalCheckReport {
  pubky: string;
  /** Files in the index, and how many bytes were read (all of them with `readData`). */
  files: number;
  bytesRead: number;
  problems: LocalProblem[];
  /** Files whose mtime changed with intact bytes: harmless, the index is updated by the next sync. */
  touched: number;
}

export interface LocalCheckOptions {
  /** Hash every file (and every snapshot entry); default: size and mtime, hashing only changed files. */
  readData?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * The backup against itself, as restic's `check`: every indexed file is present with the recorded
 * size and mtime (or, with `readData`, the recorded BLAKE3), no unknown file sits in `data/`,
 * versions are readable, nothing waits in the retry queue, the cursor is readable, and every
 * snapshot has a readable manifest that records no damage (with `readData`: every entry verified).
 * Reads only; `check --repair` fixes data problems through the sync engine.
 */
export async function checkBackup(
  store: BackupStore,
  layout: KeyLayout,
  options: LocalCheckOptions = {},
): Promise<LocalCheckReport> {
  const index = await FileIndex.open(layout.indexFile);
  const report: LocalCheckReport = {
    pubky: layout.z32,
    files: index.size,
    bytesRead: 0,
    problems: [],
    touched: 0,
  };
  for await (const finding of compareWithIndex(store, index, { ...options, untracked: true })) {
    if (finding.problem === 'touched') {
      report.touched++;
      continue;
    }
    report.problems.push({
      area: 'data',
      item: finding.path,
      problem: finding.problem,
      detail: finding.detail,
      repairable: true,
    });
  }
  if (options.readData) for (const entry of index.entries()) report.bytesRead += entry.size;
  await checkVersions(store, layout, report, options);
  await checkRetries(layout, report);
  const cursor = await readCursorState(layout.cursorFile);
  if (cursor.problem) {
    report.problems.push({
      area: 'cursor',
      item: layout.cursorFile,
      problem: 'unreadable',
      detail: cursor.problem,
      repairable: false,
    });
  }
  await checkSnapshots(layout, report, options);
  return report;
}

/**
 * Versions recorded in `state/versions.jsonl` must be there with their size (and BLAKE3 with
 * `readData`); versions from before that journal can only be read back.
 */
async function checkVersions(
  store: BackupStore,
  layout: KeyLayout,
  report: LocalCheckReport,
  options: LocalCheckOptions,
) {
  const recorded = await FileIndex.open(layout.versionsIndexFile);
  const onDisk = new Map((await listVersions(store)).map((v) => [v.storePath, v]));
  const add = (item: string, problem: string, detail: string) =>
    report.problems.push({ area: 'versions', item, problem, detail, repairable: false });
  for (const entry of recorded.entries()) {
    options.signal?.throwIfAborted();
    const version = onDisk.get(entry.path);
    if (!version) {
      add(entry.path, 'missing', 'recorded as a kept version, but not in versions/');
      continue;
    }
    if (version.size !== entry.size) {
      add(entry.path, 'damaged', `${version.size} bytes; ${entry.size} were kept`);
      continue;
    }
    if (!options.readData) continue;
    try {
      const { blake3 } = await hashStream(store.read(entry.path));
      report.bytesRead += entry.size;
      if (blake3 !== entry.blake3) add(entry.path, 'damaged', `BLAKE3 ${blake3}; ${entry.blake3} was kept`);
    } catch (error) {
      add(entry.path, 'unreadable', (error as Error).message);
    }
  }
  if (!options.readData) return;
  for (const version of onDisk.values()) {
    if (recorded.get(version.storePath)) continue;
    try {
      for await (const chunk of store.read(version.storePath)) report.bytesRead += chunk.length;
    } catch (error) {
      add(version.storePath, 'unreadable', (error as Error).message);
    }
  }
}

async function checkRetries(layout: KeyLayout, report: LocalCheckReport) {
  try {
    for (const item of (await RetryQueue.open(layout.retryFile)).all()) {
      report.problems.push({
        area: 'retry',
        item: item.path,
        problem: 'not-backed-up-yet',
        detail: `${item.attempts} failed attempts; last: ${item.lastError}`,
        repairable: true,
      });
    }
  } catch (error) {
    if (!(error instanceof RetryFileError)) throw error;
    report.problems.push({
      area: 'retry',
      item: error.file,
      problem: 'unreadable',
      detail: error.message,
      repairable: false,
    });
  }
}

async function checkSnapshots(layout: KeyLayout, report: LocalCheckReport, options: LocalCheckOptions) {
  for (const snapshot of await listSnapshots(layout)) {
    options.signal?.throwIfAborted();
    const add = (problem: string, detail: string) =>
      report.problems.push({ area: 'snapshots', item: snapshot.file, problem, detail, repairable: false });
    try {
      if (options.readData) {
        const checked = await checkSnapshot(snapshot.file);
        report.bytesRead += checked.bytes;
        for (const p of checked.problems) add(p.problem, `${p.entry}${p.detail ? `: ${p.detail}` : ''}`);
        continue;
      }
      const zip = await openZip(snapshot.file);
      const manifest = await readManifest(zip, snapshot.file).finally(() => zip.close());
      for (const bad of manifest.damaged ?? []) add('damaged-when-archived', bad.path);
    } catch (error) {
      add(
        error instanceof SnapshotError ? error.code.toLowerCase().replace(/_/g, '-') : 'unreadable',
        (error as Error).message,
      );
    }
  }
}
