import { type BackupError, toBackupError } from '../errors.js';
import {
  type ActivityEntry,
  FileIndex,
  isInactive,
  KeyLayout,
  type LastRun,
  RetryQueue,
  readActivity,
  readCursorState,
  readKeyConfig,
  readLastRun,
  readPaused,
  readResolvedHomeserver,
} from '../store/index.js';
import { latestVerifySummary, type VerifySummary } from '../verify/index.js';

/** What `list`, `status`, the API and the dashboard say about one key, from its files alone (no network). */
export interface KeySummary {
  pubky: string;
  active: boolean;
  folder: string;
  homeserver: string | null;
  pinned: boolean;
  cursor: string;
  files: number;
  /** Bytes of the backed-up files (their sizes, from the index). */
  bytes: number;
  pendingRetries: Array<{ path: string; attempts: number; lastError: string }>;
  paused: { reason: 'user' | 'mass-delete'; deletes: number; files: number; since: string | null } | null;
  lastRun: LastRun | null;
  recentActivity: ActivityEntry[];
  /** The newest `verify` report in short (`state/verify/`): time, homeserver, outcome, counts. */
  lastVerify: VerifySummary | null;
  /**
   * Set when part of the key's state could not be read: the summary says what it could, and this
   * says what is wrong (one broken key never hides the others).
   */
  error: { code: string; message: string } | null;
}

/**
 * Summarises a key. Never throws for a problem of one key's files: a damaged `key.json`, index or
 * retry file is reported in `error`, with everything else that could be read.
 */
export async function summarizeKey(dataDir: string, pubky: string, activity = 0): Promise<KeySummary> {
  const layout = new KeyLayout(dataDir, pubky);
  const problems: BackupError[] = [];
  const attempt = async <T>(read: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      problems.push(toBackupError(error));
      return fallback;
    }
  };
  const [config, cursor, index, retry, paused, resolved, lastRun, recent, lastVerify] = await Promise.all([
    attempt(() => readKeyConfig(layout.keyConfigFile, pubky), undefined),
    attempt(() => readCursorState(layout.cursorFile), { cursor: '0' }),
    attempt(() => FileIndex.open(layout.indexFile), undefined),
    attempt(() => RetryQueue.open(layout.retryFile), undefined),
    attempt(() => readPaused(layout), undefined),
    attempt(() => readResolvedHomeserver(layout), undefined),
    attempt(() => readLastRun(layout.lastRunFile), undefined),
    attempt(
      () => (activity > 0 ? readActivity(layout.activityLog, { last: activity }) : Promise.resolve([])),
      [],
    ),
    attempt(() => latestVerifySummary(layout), undefined),
  ]);
  let bytes = 0;
  for (const entry of index?.entries() ?? []) bytes += entry.size;
  const first = problems[0];
  return {
    pubky,
    active: !isInactive(layout),
    folder: layout.keyDir,
    homeserver:
      config?.homeserverUrl ?? (resolved?.endpoints as { url: string }[] | undefined)?.[0]?.url ?? null,
    pinned: config?.homeserverUrl !== undefined,
    cursor: cursor.cursor,
    files: index?.size ?? 0,
    bytes,
    pendingRetries: (retry?.all() ?? []).map((item) => ({
      path: item.path,
      attempts: item.attempts,
      lastError: item.lastError,
    })),
    paused:
      paused && !paused.accepted
        ? { reason: paused.reason, deletes: paused.deletes, files: paused.files, since: paused.since ?? null }
        : null,
    lastRun: lastRun ?? null,
    recentActivity: recent,
    lastVerify: lastVerify ?? null,
    error: first ? { code: first.code, message: first.message } : null,
  };
}
