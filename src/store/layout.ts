import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePubky } from '../identity/index.js';

/** Absolute paths of one key's folder, `<data dir>/keys/<z32>/` (DESIGN.md "Disk layout"). */
export class KeyLayout {
  readonly keyDir: string;
  readonly stateDir: string;
  /** Last applied event cursor: decimal u64, written atomically. */
  readonly cursorFile: string;
  /** The feed entry the cursor stands on: tells a reset homeserver feed (see `readAnchor`). */
  readonly anchorFile: string;
  /** Per-file index journal (path, size, blake3, etag, cursor). */
  readonly indexFile: string;
  /** Size and BLAKE3 of each kept version (`versions/…` → entry), so `check` can verify them. */
  readonly versionsIndexFile: string;
  readonly activityLog: string;
  /** Files whose download failed and will be retried. */
  readonly retryFile: string;
  /** Last resolved homeserver key + endpoint + time. */
  readonly homeserverFile: string;
  readonly keyConfigFile: string;
  /** How the last catch-up ended (see `writeLastRun`). */
  readonly lastRunFile: string;
  readonly pausedFile: string;
  /** Present when the key was removed but its data kept. */
  readonly inactiveMarker: string;
  readonly snapshotsDir: string;

  constructor(
    readonly dataDir: string,
    readonly z32: string,
  ) {
    this.keyDir = join(dataDir, 'keys', z32);
    this.stateDir = join(this.keyDir, 'state');
    this.cursorFile = join(this.stateDir, 'cursor');
    this.anchorFile = join(this.stateDir, 'cursor-anchor.json');
    this.indexFile = join(this.stateDir, 'index.jsonl');
    this.versionsIndexFile = join(this.stateDir, 'versions.jsonl');
    this.activityLog = join(this.stateDir, 'activity.log');
    this.retryFile = join(this.stateDir, 'retry.json');
    this.homeserverFile = join(this.stateDir, 'homeserver.json');
    this.keyConfigFile = join(this.stateDir, 'key.json');
    this.lastRunFile = join(this.stateDir, 'last-run.json');
    this.pausedFile = join(this.stateDir, 'paused.json');
    this.inactiveMarker = join(this.stateDir, 'inactive');
    this.snapshotsDir = join(this.keyDir, 'snapshots');
  }
}

/** The keys backed up under `dataDir`: folder names in `keys/` that are canonical z32 pubkys, sorted. */
export async function listKeys(dataDir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(dataDir, 'keys'), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isDirectory() && isCanonicalZ32(entry.name))
    .map((entry) => entry.name)
    .sort();
}

function isCanonicalZ32(name: string): boolean {
  try {
    return parsePubky(name).z32 === name;
  } catch {
    return false;
  }
}
