import { BackupStore, KeyLayout, readKeyConfig } from '../store/index.js';

import { type CreatedSnapshot, createSnapshot } from './create.js';

/** Snapshots one backed-up key, recording the homeserver it follows (pinned URL or last synced). */
export async function snapshotKey(
  dataDir: string,
  pubky: string,
  options: { tool: string; now?: () => Date; signal?: AbortSignal; onWait?: (holder: string) => void },
): Promise<CreatedSnapshot> {
  const layout = new KeyLayout(dataDir, pubky);
  const keyConfig = await readKeyConfig(layout.keyConfigFile, pubky);
  return createSnapshot({
    layout,
    store: BackupStore.openFs(layout.keyDir),
    homeserver: keyConfig.homeserverUrl ?? keyConfig.syncedFrom ?? null,
    ...options,
  });
}
