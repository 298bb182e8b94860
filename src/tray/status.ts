/**
 * What the tray shows, from the control API's `GET /status`: each pubky's level, and one aggregated
 * level for the icon in the original app's order — Syncing, then Starting, then Error, then Paused,
 * otherwise Synced — with counts ("3 pubkys · 1 syncing").
 */

/** The fields of one `GET /api/v1/status` key the tray reads. */
export interface StatusKey {
  pubky: string;
  active: boolean;
  folder: string;
  paused: { reason: 'user' | 'mass-delete'; deletes: number; files: number } | null;
  error: { code: string; message: string } | null;
  live: {
    state: string;
    done?: number;
    total?: number;
    code?: string;
    message?: string;
    reason?: string;
  } | null;
}

/** A key's level, in the order the aggregate picks them (first one present wins, else `synced`). */
export const KEY_LEVELS = ['syncing', 'starting', 'error', 'paused', 'synced'] as const;
export type KeyLevel = (typeof KEY_LEVELS)[number];
/** The icon's level: a key level, or `offline` when no daemon answers. */
export type TrayLevel = KeyLevel | 'offline';

/** Aggregated status: the icon's level, counts per level and the texts shown. */
export interface TrayStatus {
  level: TrayLevel;
  /** Active pubkys. */
  keys: number;
  counts: Record<KeyLevel, number>;
  /** "3 pubkys · 1 syncing", or why nothing is shown. */
  summary: string;
  /** "Pubky Backup: Syncing — 3 pubkys · 1 syncing". */
  tooltip: string;
}

const TITLES: Record<TrayLevel, string> = {
  syncing: 'Syncing',
  starting: 'Starting',
  error: 'Error',
  paused: 'Paused',
  synced: 'Synced',
  offline: 'Not running',
};

/** The level's name as people read it: `Synced`, `Error`, `Not running`… */
export function levelTitle(level: TrayLevel): string {
  return TITLES[level];
}

/** One key's level: what it is doing now (live state), else what its files say. */
export function keyLevel(key: StatusKey): KeyLevel {
  switch (key.live?.state) {
    case 'syncing':
      return 'syncing';
    case 'starting':
      return 'starting';
    case 'error':
      return 'error';
    case 'paused':
      return 'paused';
    case 'idle':
    case 'waiting':
      return key.paused ? 'paused' : 'synced';
  }
  if (key.paused) return 'paused';
  if (key.error) return 'error';
  // Not (yet) followed by the daemon: it is about to start.
  return 'starting';
}

/** True when the mass-delete guard paused the key (resuming it applies the deletes). */
export function pausedByGuard(key: StatusKey): boolean {
  return key.paused?.reason === 'mass-delete';
}

/** One key's state for its menu entry: `Synced`, `Syncing 12/40`, `Error: <message>`, `Paused (mass delete)`. */
export function keyLabel(key: StatusKey): string {
  const level = keyLevel(key);
  if (level === 'syncing' && key.live?.total) return `Syncing ${key.live.done ?? 0}/${key.live.total}`;
  if (level === 'error') {
    const message = key.live?.message ?? key.error?.message;
    return message ? `Error: ${shorten(message, 60)}` : 'Error';
  }
  if (level === 'paused') return pausedByGuard(key) ? 'Paused (mass delete)' : 'Paused';
  if (level === 'synced' && key.live?.state === 'waiting') return 'Waiting for the homeserver';
  return TITLES[level];
}

/** The aggregated status of every active key. */
export function aggregate(keys: readonly StatusKey[]): TrayStatus {
  const active = keys.filter((key) => key.active);
  const counts = Object.fromEntries(KEY_LEVELS.map((level) => [level, 0])) as Record<KeyLevel, number>;
  for (const key of active) counts[keyLevel(key)]++;
  const level = KEY_LEVELS.find((candidate) => candidate !== 'synced' && counts[candidate] > 0) ?? 'synced';
  const summary =
    active.length === 0
      ? 'no pubkys yet'
      : [
          `${active.length} ${active.length === 1 ? 'pubky' : 'pubkys'}`,
          ...KEY_LEVELS.filter((l) => l !== 'synced' && counts[l] > 0).map(
            (l) => `${counts[l]} ${l === 'error' && counts[l] > 1 ? 'errors' : l}`,
          ),
        ].join(' · ');
  return {
    level,
    keys: active.length,
    counts,
    summary,
    tooltip: `Pubky Backup: ${TITLES[level]} — ${summary}`,
  };
}

/** The status while no daemon answers (the tray waits for one). */
export function offlineStatus(): TrayStatus {
  const counts = Object.fromEntries(KEY_LEVELS.map((level) => [level, 0])) as Record<KeyLevel, number>;
  const summary = 'the daemon is not running';
  return { level: 'offline', keys: 0, counts, summary, tooltip: `Pubky Backup: ${summary}` };
}

/** `8pinxxgq…435ewo`: a pubky short enough for a menu. */
export function shortPubky(pubky: string): string {
  return pubky.length > 16 ? `${pubky.slice(0, 8)}…${pubky.slice(-6)}` : pubky;
}

function shorten(text: string, max: number): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
