import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Pubky, Keypair as SdkKeypair, PublicKey as SdkPublicKey } from '@synonymdev/pubky';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyLayout, readActivity } from '../../src/store/index.js';
import type { SyncReport } from '../../src/sync/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { put, signup, startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupOf, localFile, newUserWithFiles, openManager, remove, versionsOf } from '../helpers/sync.js';

let testnet: Testnet;
beforeEach(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
});
afterEach(() => testnet.close());

async function syncOnce(dataDir: string, pubkys: string[]): Promise<SyncReport[]> {
  const manager = await openManager(dataDir, pubkys);
  const results = await manager.syncOnce();
  for (const result of results) if ('error' in result) throw result.error;
  return results as SyncReport[];
}

describe('sync engine against the testnet', () => {
  it('files written by the official SDK appear byte-identical', async () => {
    const pubky = Pubky.withClient(new Client({ pkarr: { relays: [testnet.relay.url] } }));
    const keypair = SdkKeypair.random();
    const session = await pubky
      .signer(keypair)
      .signup(SdkPublicKey.from(testnet.homeserver.publicKey.z32), null);
    const blob = new Uint8Array(3_000_000).map((_, i) => (i * 7919) % 256);
    await session.storage.putText('/pub/app/hello.txt', 'hello');
    await session.storage.putJson('/pub/app/profile.json', { name: 'SDK user' });
    await session.storage.putBytes('/pub/app/files/big.bin', blob);
    const user = keypair.publicKey.z32();
    const dataDir = await backupOf([{ hs: testnet.homeserver, user: { z32: user } as TestUser }]);

    const [report] = await syncOnce(dataDir, [user]);
    expect(report).toMatchObject({ stored: 3, failed: 0, pendingRetries: 0 });
    expect((await localFile(dataDir, user, '/pub/app/hello.txt'))?.toString()).toBe('hello');
    expect(JSON.parse((await localFile(dataDir, user, '/pub/app/profile.json'))?.toString() ?? '')).toEqual({
      name: 'SDK user',
    });
    expect(
      Buffer.compare((await localFile(dataDir, user, '/pub/app/files/big.bin')) as Buffer, Buffer.from(blob)),
    ).toBe(0);
    expect(await readFile(new KeyLayout(dataDir, user).cursorFile, 'utf8')).toMatch(/^\d+\n?$/);
  });

  it('updates and deletes keep the previous version; replaying everything changes nothing', async () => {
    const hs = testnet.homeserver;
    const user = await newUserWithFiles(hs, { '/pub/a.txt': 'v1', '/pub/b.txt': 'bee' });
    const dataDir = await backupOf([{ hs, user }]);
    await syncOnce(dataDir, [user.z32]);
    await put(hs, user, '/pub/a.txt', 'v2');
    await remove(hs, user, '/pub/b.txt');
    const [report] = await syncOnce(dataDir, [user.z32]);
    expect(report).toMatchObject({ stored: 1, deleted: 1 });
    expect((await localFile(dataDir, user.z32, '/pub/a.txt'))?.toString()).toBe('v2');
    expect(await localFile(dataDir, user.z32, '/pub/b.txt')).toBeUndefined();
    const aVersions = await versionsOf(dataDir, user.z32, '/pub/a.txt');
    expect(aVersions).toHaveLength(1);
    const layout = new KeyLayout(dataDir, user.z32);
    expect(await readFile(join(layout.keyDir, 'versions/pub', aVersions[0] as string), 'utf8')).toBe('v1');
    expect(await versionsOf(dataDir, user.z32, '/pub/b.txt')).toHaveLength(1);

    // Replay the whole feed from cursor 0: nothing is downloaded again, no new versions.
    await writeFile(layout.cursorFile, '0');
    const [replay] = await syncOnce(dataDir, [user.z32]);
    expect(replay).toMatchObject({ stored: 0, failed: 0 });
    expect(await versionsOf(dataDir, user.z32, '/pub/a.txt')).toHaveLength(1);
    expect((await localFile(dataDir, user.z32, '/pub/a.txt'))?.toString()).toBe('v2');
  });

  it('continues after a restart without downloading again', async () => {
    const hs = testnet.homeserver;
    const user = await newUserWithFiles(hs, {
      '/pub/1': 'one',
      '/pub/2': 'two',
      '/pub/s p a c e/é.txt': 'utf8',
    });
    const dataDir = await backupOf([{ hs, user }]);
    await syncOnce(dataDir, [user.z32]);
    expect((await localFile(dataDir, user.z32, '/pub/s p a c e/é.txt'))?.toString()).toBe('utf8');
    await put(hs, user, '/pub/3', 'three');
    // Any GET of an already backed-up file would fail the test.
    hs.faults.add({ route: 'read', path: /^\/pub\/[12]$/, fault: { kind: 'status', status: 500 } });
    const [report] = await syncOnce(dataDir, [user.z32]);
    expect(report).toMatchObject({ stored: 1, failed: 0, cursor: String(hs.state.headCursor) });
  });

  it('several keys on one homeserver and on two homeservers', async () => {
    const other = await startHomeserver();
    try {
      const alice = await newUserWithFiles(testnet.homeserver, { '/pub/alice.txt': 'A' });
      const bob = await newUserWithFiles(testnet.homeserver, { '/pub/bob.txt': 'B' });
      const carol = await newUserWithFiles(other, { '/pub/carol.txt': 'C' });
      const dataDir = await backupOf([
        { hs: testnet.homeserver, user: alice },
        { hs: testnet.homeserver, user: bob },
        { hs: other, user: carol },
      ]);
      const reports = await syncOnce(dataDir, [alice.z32, bob.z32, carol.z32]);
      expect(reports.map((r) => r.stored)).toEqual([1, 1, 1]);
      expect((await localFile(dataDir, alice.z32, '/pub/alice.txt'))?.toString()).toBe('A');
      expect((await localFile(dataDir, bob.z32, '/pub/bob.txt'))?.toString()).toBe('B');
      expect((await localFile(dataDir, carol.z32, '/pub/carol.txt'))?.toString()).toBe('C');
      expect(await localFile(dataDir, alice.z32, '/pub/bob.txt')).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('unsafe events are ignored and logged: outside /pub/, .. escapes, other owners', async () => {
    const hs = testnet.homeserver;
    const user = await newUserWithFiles(hs, { '/pub/ok.txt': 'ok' });
    const stranger = await signup(hs);
    hs.injectEvent({ type: 'PUT', owner: user.z32, uri: `pubky://${user.z32}/priv/secret` });
    hs.injectEvent({ type: 'PUT', owner: user.z32, uri: `pubky://${user.z32}/pub/../../../etc/passwd` });
    hs.injectEvent({ type: 'PUT', owner: user.z32, uri: `pubky://${stranger.z32}/pub/theirs.txt` });
    const dataDir = await backupOf([{ hs, user }]);
    const [report] = await syncOnce(dataDir, [user.z32]);
    expect(report).toMatchObject({ stored: 1, ignored: 3, failed: 0 });
    const activity = await readActivity(new KeyLayout(dataDir, user.z32).activityLog);
    expect(activity.filter((a) => a.type === 'ignored-event').map((a) => a.reason)).toEqual([
      'outside-pub',
      'dot-segment',
      'foreign-owner',
    ]);
  });

  it('an existing folder in the original app’s layout continues from its cursor', async () => {
    const hs = testnet.homeserver;
    const user = await newUserWithFiles(hs, { '/pub/old.txt': 'old' });
    const cursorBefore = hs.state.headCursor;
    await put(hs, user, '/pub/new.txt', 'new');
    const dataDir = await backupOf([{ hs, user }]);
    const layout = new KeyLayout(dataDir, user.z32);
    // The original app: data/pub/… and state/cursor as a decimal, nothing else.
    await rm(layout.keyConfigFile);
    await writeFile(layout.cursorFile, `${cursorBefore}`);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(layout.keyDir, 'data/pub'), { recursive: true });
    await writeFile(join(layout.keyDir, 'data/pub/old.txt'), 'old');
    const { writeKeyConfig } = await import('../../src/store/index.js');
    await writeKeyConfig(layout.keyConfigFile, {
      pubky: user.z32,
      addedAt: '1970-01-01T00:00:00.000Z',
      homeserverUrl: hs.url,
    });
    const [report] = await syncOnce(dataDir, [user.z32]);
    expect(report).toMatchObject({ stored: 1 });
    expect((await localFile(dataDir, user.z32, '/pub/new.txt'))?.toString()).toBe('new');
  });
});
