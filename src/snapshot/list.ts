import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyLayout } from '../store/index.js';
import { snapshotTime } from './naming.js';

export interface SnapshotInfo {
  pubky: string;
  name: string;
  file: string;
  createdAt: Date;
  size: number;
}

/** A key's snapshots, oldest first (temp files of unfinished snapshots are not snapshots). */
export async function listSnapshots(layout: KeyLayout): Promise<SnapshotInfo[]> {
  let names: string[];
  try {
    names = await readdir(layout.snapshotsDir);
  } catch {
    return [];
  }
  const snapshots: SnapshotInfo[] = [];
  for (const name of names) {
    const createdAt = snapshotTime(name);
    if (!createdAt) continue;
    const file = join(layout.snapshotsDir, name);
    snapshots.push({ pubky: layout.z32, name, file, createdAt, size: (await stat(file)).size });
  }
  return snapshots.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}
