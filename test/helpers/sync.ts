import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Config, DEFAULT_CONFIG } from '../../src/config/index.js';
import { KeyLayout, writeKeyConfig } from '../../src/store/index.js';
import { SyncManager } from '../../src/sync/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { put, signup, type TestUser, tenantFetch } from './homeserver.js';

/**
 * A backup folder with `users` added, pinned to their homeservers (no PKDNS needed): a testnet
 * homeserver, or anything with a `url` (a fake one).
 */
export async function backupOf(
  entries: Array<{ hs: Pick<Homeserver, 'url'>; user: Pick<TestUser, 'z32'> }>,
  dataDir?: string,
) {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'pubky-backup-sync-')));
  for (const { hs, user } of entries) {
    const layout = new KeyLayout(dir, user.z32);
    await mkdir(layout.stateDir, { recursive: true });
    await writeKeyConfig(layout.keyConfigFile, {
      pubky: user.z32,
      addedAt: new Date().toISOString(),
      homeserverUrl: hs.url,
    });
  }
  return dir;
}

export function openManager(
  dataDir: string,
  pubkys: string[],
  config: Partial<Config> = {},
  now?: () => number,
) {
  return SyncManager.open({
    dataDir,
    now,
    config: { ...DEFAULT_CONFIG, ...config },
    pubkys,
    locate: async () => {
      throw new Error('tests pin their homeservers');
    },
  });
}

/** Reads a backed-up file (homeserver path like /pub/a.txt), undefined if absent. */
export async function localFile(dataDir: string, user: string, path: string): Promise<Buffer | undefined> {
  const file = join(new KeyLayout(dataDir, user).keyDir, 'data', path);
  return existsSync(file) ? readFile(file) : undefined;
}

/** Names of kept previous versions of a file (`<name>~<timestamp>`). */
export async function versionsOf(dataDir: string, user: string, path: string): Promise<string[]> {
  const file = join(new KeyLayout(dataDir, user).keyDir, 'versions', path);
  const dir = dirname(file);
  if (!existsSync(dir)) return [];
  const name = file.slice(dir.length + 1);
  return (await readdir(dir)).filter((entry) => entry.startsWith(`${name}~`)).sort();
}

export async function newUserWithFiles(hs: Homeserver, files: Record<string, string | Uint8Array>) {
  const user = await signup(hs);
  for (const [path, body] of Object.entries(files)) await put(hs, user, path, body);
  return user;
}

export async function remove(hs: Homeserver, user: TestUser, path: string) {
  const response = await tenantFetch(hs, user, path, { method: 'DELETE' });
  if (response.status !== 204) throw new Error(`DELETE ${path}: ${response.status}`);
}
