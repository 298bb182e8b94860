import { rm } from 'node:fs/promises';
import type { Config } from '../config/index.js';
import { FileIndex, KeyLayout, readLastRun } from '../store/index.js';
import { sleep } from '../util/sleep.js';
import type { CreatedSnapshot } from './create.js';
import { snapshotKey } from './key-snapshot.js';
import { listSnapshots } from './list.js';
import { hasPolicy, planPruneKeepingGood } from './prune.js';

const PERIOD_MS = { hourly: 3_600_000, daily: 86_400_000, weekly: 7 * 86_400_000 } as const;

export interface ScheduleOptions {
  dataDir: string;
  pubkys: () => string[];
  config: Config['snapshots'];
  tool: string;
  signal: AbortSignal;
  /** How often to look whether a snapshot is due. Default 1 min. */
  checkEveryMs?: number;
  now?: () => Date;
  onSnapshot?: (pubky: string, created: CreatedSnapshot) => void;
  onError?: (pubky: string, error: Error) => void;
}

/**
 * Makes a snapshot of each key when its newest one is older than the period, then prunes. A key
 * is snapshotted only after its first completed catch-up and only when it holds files: the
 * schedule never writes an empty snapshot, nor one of a half-done first backup.
 */
export async function runSnapshotSchedule(options: ScheduleOptions): Promise<void> {
  if (options.config.every === 'off') return;
  const period = PERIOD_MS[options.config.every];
  const now = options.now ?? (() => new Date());
  while (!options.signal.aborted) {
    for (const pubky of options.pubkys()) {
      if (options.signal.aborted) return;
      try {
        const file = await snapshotIfDue(options.dataDir, pubky, period, options, now);
        if (file) options.onSnapshot?.(pubky, file);
      } catch (error) {
        options.onError?.(pubky, error as Error);
      }
    }
    await sleep(options.checkEveryMs ?? 60_000, options.signal).catch(() => {});
  }
}

async function snapshotIfDue(
  dataDir: string,
  pubky: string,
  period: number,
  options: ScheduleOptions,
  now: () => Date,
): Promise<CreatedSnapshot | undefined> {
  const layout = new KeyLayout(dataDir, pubky);
  const lastRun = await readLastRun(layout.lastRunFile);
  if (!lastRun || (lastRun.outcome !== 'ok' && lastRun.outcome !== 'paused')) return undefined;
  if ((await FileIndex.open(layout.indexFile)).size === 0) return undefined;
  const snapshots = await listSnapshots(layout);
  const newest = snapshots.at(-1);
  if (newest && now().getTime() - newest.createdAt.getTime() < period) return undefined;
  const created = await snapshotKey(dataDir, pubky, { tool: options.tool, now });
  const { every: _every, ...policy } = options.config;
  if (hasPolicy(policy)) {
    for (const old of (await planPruneKeepingGood(await listSnapshots(layout), policy)).remove)
      await rm(old.file, { force: true });
  }
  return created;
}
