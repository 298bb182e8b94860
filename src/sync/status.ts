/** What a key's backup is doing, as the CLI, daemon and dashboard show it. */
export type SyncStatus =
  | { state: 'starting' }
  | { state: 'syncing'; done: number; total: number; bytes: number }
  | { state: 'idle'; lastSync: string; nextSync?: string; failed: number }
  | { state: 'paused'; reason: string; deletes: number; files: number }
  | { state: 'error'; code: string; message: string; recoverable: boolean };

/** Counters of one catch-up run, for `sync --once` output and exit codes. */
export interface SyncReport {
  pubky: string;
  stored: number;
  unchanged: number;
  deleted: number;
  ignored: number;
  failed: number;
  bytes: number;
  cursor: string;
  paused: boolean;
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
    failed: 0,
    bytes: 0,
    cursor,
    paused: false,
    pendingRetries: 0,
  };
}
