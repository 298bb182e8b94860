import { formatBytes } from '../util/format-bytes.js';

export { formatBytes };
/** The shapes the dashboard reads from the API (see /api/v1/openapi.json). */

export interface LiveStatus {
  state: 'starting' | 'syncing' | 'idle' | 'paused' | 'waiting' | 'error';
  done?: number;
  total?: number;
  bytes?: number;
  lastSync?: string;
  nextSync?: string;
  failed?: number;
  reason?: string;
  code?: string;
  message?: string;
}

export interface KeySummary {
  pubky: string;
  active: boolean;
  homeserver: string | null;
  pinned: boolean;
  cursor: string;
  files: number;
  bytes: number;
  pendingRetries: Array<{ path: string; attempts: number; lastError: string }>;
  paused: { reason: 'user' | 'mass-delete'; deletes: number; files: number; since: string | null } | null;
  lastRun: {
    finishedAt: string;
    outcome: string;
    error?: { code: string; message: string; since: string };
  } | null;
  recentActivity: Array<{ type: string; message: string; timestamp: string }>;
  error: { code: string; message: string } | null;
  live: LiveStatus | null;
}

export interface Config {
  syncIntervalSeconds: number;
  downloadConcurrency: number;
  snapshots: {
    every: 'off' | 'hourly' | 'daily' | 'weekly';
    keepLast?: number;
    keepDaily?: number;
    keepWeekly?: number;
    keepMonthly?: number;
  };
  versions: { keepDays: number };
  [field: string]: unknown;
}

/** The word a person reads for a key's state, and its tone. */
export function statusOf(key: KeySummary): {
  word: string;
  tone: 'ok' | 'busy' | 'warn' | 'bad' | 'off';
  detail: string;
} {
  if (!key.active)
    return { word: 'Removed', tone: 'off', detail: 'not backed up any more; the data is kept' };
  if (key.error) return { word: 'Error', tone: 'bad', detail: `${key.error.message}` };
  if (key.paused) {
    return key.paused.reason === 'user'
      ? { word: 'Paused', tone: 'off', detail: 'paused by you' }
      : {
          word: 'Paused',
          tone: 'warn',
          detail: `the homeserver deleted ${key.paused.deletes} of ${key.paused.files} files at once; check it, then resume accepting the deletes`,
        };
  }
  const live = key.live;
  if (live?.state === 'syncing') {
    return {
      word: 'Syncing',
      tone: 'busy',
      detail: `${live.done ?? 0}/${live.total ?? 0} · ${formatBytes(live.bytes ?? 0)}`,
    };
  }
  if (live?.state === 'error') return { word: 'Error', tone: 'bad', detail: live.message ?? 'failed' };
  if (live?.state === 'waiting' || key.lastRun?.outcome === 'waiting') {
    return {
      word: 'Waiting',
      tone: 'warn',
      detail: 'the homeserver does not know this pubky yet; the backup starts when it does',
    };
  }
  if (live?.state === 'starting' || (!live && !key.lastRun))
    return { word: 'Starting', tone: 'busy', detail: 'first sync pending' };
  if (key.lastRun?.error && live?.state !== 'idle')
    return { word: 'Error', tone: 'bad', detail: key.lastRun.error.message };
  const failing = key.pendingRetries.length;
  return {
    word: 'Synced',
    tone: failing ? 'warn' : 'ok',
    detail: failing ? `${failing} files failing; retried with backoff` : 'up to date',
  };
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString();
}
