import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { KeyLayout, writeKeyConfig } from '../../src/store/index.js';
import { SyncManager } from '../../src/sync/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { put, startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupOf, localFile, newUserWithFiles, openManager } from '../helpers/sync.js';

let hs: Homeserver;
let user: TestUser;
let dataDir: string;
let stop: AbortController;
let running: Promise<void> | undefined;
beforeEach(async () => {
  stop = new AbortController();
  running = undefined;
  hs = await startHomeserver();
  user = await newUserWithFiles(hs, { '/pub/first.txt': 'first' });
  dataDir = await backupOf([{ hs, user }]);
});
afterEach(async () => {
  stop.abort();
  await running;
  await hs.close();
});

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('continuous sync', () => {
  it('live: a PUT reaches the disk through the event stream, a DEL removes it', async () => {
    // Polling is set far away, so only the live stream can deliver within the test.
    const manager = await openManager(dataDir, [user.z32], { syncIntervalSeconds: 3600 });
    running = manager.run(stop.signal);
    await until(
      async () => (await localFile(dataDir, user.z32, '/pub/first.txt')) !== undefined,
      'initial sync',
    );
    await put(hs, user, '/pub/live.txt', 'live!');
    await until(
      async () => (await localFile(dataDir, user.z32, '/pub/live.txt'))?.toString() === 'live!',
      'live PUT',
    );
    const { remove } = await import('../helpers/sync.js');
    await remove(hs, user, '/pub/live.txt');
    await until(async () => (await localFile(dataDir, user.z32, '/pub/live.txt')) === undefined, 'live DEL');
  });

  it('without a live stream, polling every interval still follows the feed', async () => {
    hs.faults.add({ route: 'events-stream', fault: { kind: 'status', status: 404, body: 'Not Found' } });
    const manager = await openManager(dataDir, [user.z32], { syncIntervalSeconds: 1 });
    running = manager.run(stop.signal);
    await until(
      async () => (await localFile(dataDir, user.z32, '/pub/first.txt')) !== undefined,
      'initial sync',
    );
    await put(hs, user, '/pub/polled.txt', 'polled');
    await until(
      async () => (await localFile(dataDir, user.z32, '/pub/polled.txt')) !== undefined,
      'polled PUT',
    );
  });

  it('a user who moved homeserver is reconciled by listing the new one, old files kept', async () => {
    const manager = await openManager(dataDir, [user.z32]);
    await manager.syncOnce();
    const newHs = await startHomeserver();
    try {
      // The user migrated: same key, new homeserver with a changed and a new file, first.txt not copied.
      const { signup } = await import('../helpers/homeserver.js');
      const moved = await signup(newHs, { keypair: user.keypair });
      await put(newHs, moved, '/pub/second.txt', 'second');
      const layout = new KeyLayout(dataDir, user.z32);
      let location = { url: hs.url, identity: hs.publicKey.z32 };
      await writeKeyConfig(layout.keyConfigFile, {
        pubky: user.z32,
        addedAt: new Date().toISOString(),
        syncedFrom: hs.publicKey.z32,
      });
      const unpinned = await SyncManager.open({
        dataDir,
        config: DEFAULT_CONFIG,
        pubkys: [user.z32],
        locate: async () => location,
      });
      location = { url: newHs.url, identity: newHs.publicKey.z32 };
      expect(await unpinned.relocate()).toBe(true);
      const [report] = await unpinned.syncOnce();
      expect(report).toMatchObject({ stored: 1 });
      expect((await localFile(dataDir, user.z32, '/pub/second.txt'))?.toString()).toBe('second');
      expect((await localFile(dataDir, user.z32, '/pub/first.txt'))?.toString()).toBe('first');
      expect(existsSync(join(layout.keyDir, 'data/pub/first.txt'))).toBe(true);
      // Continues from the new homeserver's feed: a later write arrives normally.
      await put(newHs, moved, '/pub/third.txt', 'third');
      const [next] = await unpinned.syncOnce();
      expect(next).toMatchObject({ stored: 1 });
    } finally {
      await newHs.close();
    }
  });
});
