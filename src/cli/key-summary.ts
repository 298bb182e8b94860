import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { FileIndex, KeyLayout, RetryQueue, readActivity, readCursor, readLastRun } from '../store/index.js';
import { readKeyConfig, readPaused } from '../sync/index.js';
import { latestVerifySummary } from '../verify/index.js';

/** What `list` and `status` say about one key, read from its state folder (no network). */
export async function summarizeKey(dataDir: string, pubky: string, activity = 0) {
  const layout = new KeyLayout(dataDir, pubky);
  const [config, cursor, index, retry, paused, resolved, lastRun, lastVerify] = await Promise.all([
    readKeyConfig(layout.keyConfigFile, pubky),
    readCursor(layout.cursorFile),
    FileIndex.open(layout.indexFile),
    RetryQueue.open(layout.retryFile),
    readPaused(layout),
    readJson(layout.homeserverFile),
    readLastRun(layout.lastRunFile),
    latestVerifySummary(layout),
  ]);
  let bytes = 0;
  for (const entry of index.entries()) bytes += entry.size;
  return {
    pubky,
    active: !existsSync(layout.inactiveMarker),
    folder: layout.keyDir,
    homeserver:
      config.homeserverUrl ?? (resolved?.endpoints as { url: string }[] | undefined)?.[0]?.url ?? null,
    pinned: config.homeserverUrl !== undefined,
    cursor,
    files: index.size,
    bytes,
    pendingRetries: retry
      .all()
      .map((item) => ({ path: item.path, attempts: item.attempts, lastError: item.lastError })),
    paused: paused && !paused.accepted ? { deletes: paused.deletes, files: paused.files } : null,
    lastRun: lastRun ?? null,
    /** The newest `verify` report in short (`state/verify/`), or null. */
    lastVerify: lastVerify ?? null,
    recentActivity: activity > 0 ? await readActivity(layout.activityLog, { last: activity }) : [],
  };
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
