import { readManifest } from './check.js';
import type { SnapshotInfo } from './list.js';
import { openZip } from './zip-reader.js';

/** restic `forget` policy: keep the N latest, and the latest of each of the last N days/weeks/months. */
export interface RetentionPolicy {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
}

export interface PrunePlan {
  keep: Array<{ snapshot: SnapshotInfo; reasons: string[] }>;
  remove: SnapshotInfo[];
}

export function hasPolicy(policy: RetentionPolicy): boolean {
  return Object.values(policy).some((n) => typeof n === 'number' && n > 0);
}

/**
 * Which snapshots a policy keeps. As in restic: newest first, each rule keeps a snapshot when its
 * bucket (day, ISO week, month; all in UTC) differs from the last bucket that rule kept, until the
 * rule has kept N. A snapshot kept by any rule stays.
 */
export function planPrune(snapshots: readonly SnapshotInfo[], policy: RetentionPolicy): PrunePlan {
  const newestFirst = [...snapshots].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const rules: Array<{ name: string; count: number; bucket: (s: SnapshotInfo) => string }> = [
    { name: 'last', count: policy.keepLast ?? 0, bucket: (s) => s.name },
    { name: 'daily', count: policy.keepDaily ?? 0, bucket: (s) => s.createdAt.toISOString().slice(0, 10) },
    { name: 'weekly', count: policy.keepWeekly ?? 0, bucket: (s) => isoWeek(s.createdAt) },
    { name: 'monthly', count: policy.keepMonthly ?? 0, bucket: (s) => s.createdAt.toISOString().slice(0, 7) },
  ];
  const state = rules.map(() => ({ kept: 0, lastBucket: undefined as string | undefined }));
  const keep: PrunePlan['keep'] = [];
  const remove: SnapshotInfo[] = [];
  for (const snapshot of newestFirst) {
    const reasons: string[] = [];
    rules.forEach((rule, i) => {
      const s = state[i] as (typeof state)[number];
      if (s.kept >= rule.count) return;
      const bucket = rule.bucket(snapshot);
      if (bucket === s.lastBucket) return;
      s.lastBucket = bucket;
      s.kept++;
      reasons.push(rule.name === 'last' ? 'last' : `${rule.name} ${bucket}`);
    });
    if (reasons.length > 0) keep.push({ snapshot, reasons });
    else remove.push(snapshot);
  }
  return { keep, remove };
}

/** ISO 8601 week of a UTC date, e.g. `2026-W48`. */
function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * `planPrune` over the intact snapshots only: a snapshot whose manifest cannot be read, or that
 * records damaged entries, neither counts toward a rule (so it never displaces a good one) nor is
 * deleted by pruning — it is listed in `damaged` for the user to look at.
 */
export async function planPruneKeepingGood(
  snapshots: readonly SnapshotInfo[],
  policy: RetentionPolicy,
): Promise<PrunePlan & { damaged: SnapshotInfo[] }> {
  const intact: SnapshotInfo[] = [];
  const damaged: SnapshotInfo[] = [];
  for (const snapshot of snapshots) ((await isIntact(snapshot.file)) ? intact : damaged).push(snapshot);
  return { ...planPrune(intact, policy), damaged };
}

async function isIntact(file: string): Promise<boolean> {
  try {
    const zip = await openZip(file);
    const manifest = await readManifest(zip, file).finally(() => zip.close());
    return (manifest.damaged ?? []).length === 0;
  } catch {
    return false;
  }
}
