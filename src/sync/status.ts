/** What a key's backup is doing, as the CLI, daemon and dashboard show it. */
export type SyncStatus =
  | { state: 'starting' }
  | { state: 'syncing'; done: number; total: number; bytes: number }
  | { state: 'idle'; lastSync: string; nextSync?: string; failed: number }
  | { state: 'paused'; reason: string; deletes: number; files: number }
  | { state: 'waiting'; reason: string }
  | { state: 'error'; code: string; message: string; recoverable: boolean };

/** Counters of one catch-up run, for `sync --once` output and exit codes. */
export interface SyncReport {
  pubky: string;
  stored: number;
  unchanged: number;
  deleted: number;
  ignored: number;
  /** Feed entries (lines, SSE messages) that could not be read, reported and passed over. */
  skipped: number;
  failed: number;
  /** Files whose copy on this disk was damaged, replaced by the homeserver's bytes. */
  repaired: number;
  bytes: number;
  cursor: string;
  paused: boolean;
  /** The homeserver does not know the user yet: nothing to back up (not an error). */
  waiting: boolean;
  /** The feed was found reset below the cursor this run, and the backup reconciled by listing. */
  feedReset: boolean;
  /** Files still waiting in the retry queue after the run. */
  pendingRetries: number;
}

export function emptyReport(pubky: string, cursor: string): SyncReport {
  return {
    pubky,
    stored: 0,
    unchanged: 0,
    deleted: 0,
    ignored: 0,
    skipped: 0,
    failed: 0,
    repaired: 0,
    bytes: 0,
    cursor,
    paused: false,
    waiting: false,
    feedReset: false,
    pendingRetries: 0,
  };
}
