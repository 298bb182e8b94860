import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { extractSnapshot, snapshotKey } from '../../src/snapshot/index.js';
import { KeyLayout, readActivity, readCursor } from '../../src/store/index.js';
import type { SyncReport } from '../../src/sync/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { put, signup, startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupOf, localFile, newUserWithFiles, openManager } from '../helpers/sync.js';

const started: Homeserver[] = [];
/** Stops `hs` and starts an empty homeserver on its port: a reset (or a restore from long ago). */
async function resetOnSamePort(hs: Homeserver): Promise<Homeserver> {
  await hs.close();
  started.splice(started.indexOf(hs), 1);
  // Let pooled client connections see the close before the next request.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return homeserver(hs.port);
}
async function homeserver(port = 0): Promise<Homeserver> {
  const hs = await startHomeserver({ port });
  started.push(hs);
  return hs;
}
afterEach(async () => {
  for (const hs of started.splice(0)) await hs.close();
});

async function syncOnce(dataDir: string, pubky: string): Promise<SyncReport> {
  const manager = await openManager(dataDir, [pubky]);
  const [result] = await manager.syncOnce();
  if (!result || 'error' in result) throw result?.error ?? new Error('no result');
  return result;
}
const activityTypes = async (dataDir: string, pubky: string) =>
  (await readActivity(new KeyLayout(dataDir, pubky).activityLog)).map((a) => a.type);

describe('the events stream is rate limited', () => {
  it('429 with Retry-After: 2, twice: waits as told, then completes', async () => {
    const hs = await homeserver();
    const user = await newUserWithFiles(hs, { '/pub/a.txt': 'A' });
    const dataDir = await backupOf([{ hs, user }]);
    hs.faults.add({ route: 'events-stream', times: 2, fault: { kind: 'rate-limit', retryAfterSeconds: 2 } });
    const started = Date.now();
    expect(await syncOnce(dataDir, user.z32)).toMatchObject({ stored: 1, failed: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3900);
    expect(await activityTypes(dataDir, user.z32)).toEqual(expect.arrayContaining(['feed-retry']));
  });
});

describe('state/cursor left by the original app', () => {
  it.each([
    ['empty', ''],
    ['a bare newline', '\n'],
  ])('%s: from the start, silently', async (_, content) => {
    const hs = await homeserver();
    const user = await newUserWithFiles(hs, { '/pub/a.txt': 'A', '/pub/b.txt': 'B' });
    const dataDir = await backupOf([{ hs, user }]);
    await writeFile(new KeyLayout(dataDir, user.z32).cursorFile, content);
    expect(await syncOnce(dataDir, user.z32)).toMatchObject({
      stored: 2,
      cursor: String(hs.state.headCursor),
    });
    expect(await activityTypes(dataDir, user.z32)).not.toContain('cursor-unreadable');
  });

  it('an old string cursor the homeserver cannot map: a full resync from the start, logged', async () => {
    const hs = await homeserver();
    const user = await newUserWithFiles(hs, { '/pub/a.txt': 'A', '/pub/b.txt': 'B' });
    const dataDir = await backupOf([{ hs, user }]);
    await writeFile(new KeyLayout(dataDir, user.z32).cursorFile, '0033RCZXVEPNG');
    expect(await syncOnce(dataDir, user.z32)).toMatchObject({
      stored: 2,
      cursor: String(hs.state.headCursor),
    });
    expect(await activityTypes(dataDir, user.z32)).toContain('cursor-rejected');
  });

  it('damage: a full resync from the start, logged', async () => {
    const hs = await homeserver();
    const user = await newUserWithFiles(hs, { '/pub/a.txt': 'A' });
    const dataDir = await backupOf([{ hs, user }]);
    await writeFile(new KeyLayout(dataDir, user.z32).cursorFile, 'garbage!');
    expect(await syncOnce(dataDir, user.z32)).toMatchObject({ stored: 1 });
    expect(await activityTypes(dataDir, user.z32)).toContain('cursor-unreadable');
  });
});

describe('the feed restarts below the cursor', () => {
  it('a homeserver reset (restarted empty on the same port): detected, reconciled by listing, followed again', async () => {
    const first = await homeserver();
    const user = await newUserWithFiles(first, { '/pub/a.txt': 'A', '/pub/b.txt': 'B', '/pub/c.txt': 'C' });
    const dataDir = await backupOf([{ hs: first, user }]);
    expect(await syncOnce(dataDir, user.z32)).toMatchObject({ stored: 3, cursor: '3' });
    const reset = await resetOnSamePort(first);
    const again = await signup(reset, { keypair: user.keypair });
    await put(reset, again, '/pub/new.txt', 'new'); // event 1: below our cursor 3

    const report = await syncOnce(dataDir, user.z32);
    expect(report).toMatchObject({ feedReset: true, stored: 1, cursor: '1' });
    expect((await localFile(dataDir, user.z32, '/pub/new.txt'))?.toString()).toBe('new');
    expect((await localFile(dataDir, user.z32, '/pub/a.txt'))?.toString()).toBe('A'); // kept
    const activity = await readActivity(new KeyLayout(dataDir, user.z32).activityLog);
    expect(activity.find((a) => a.type === 'feed-reset')?.message).toMatch(/reset or restored/);
    expect(activity.find((a) => a.type === 'reconciled')?.message).toMatch(/3 files .* kept/);

    // Followed from the new head from now on.
    await put(reset, again, '/pub/next.txt', 'next');
    expect(await syncOnce(dataDir, user.z32)).toMatchObject({ feedReset: false, stored: 1, cursor: '2' });
  });

  it('a cursor beyond the head for any reason (echo 999999 > state/cursor): detected, reconciled', async () => {
    const hs = await homeserver();
    const user = await newUserWithFiles(hs, { '/pub/a.txt': 'A' });
    const dataDir = await backupOf([{ hs, user }]);
    await syncOnce(dataDir, user.z32);
    await writeFile(new KeyLayout(dataDir, user.z32).cursorFile, '999999\n');
    await writeFile(new KeyLayout(dataDir, user.z32).anchorFile, '{}');
    await put(hs, user, '/pub/b.txt', 'B');
    expect(await syncOnce(dataDir, user.z32)).toMatchObject({ feedReset: true, stored: 1 });
    expect(await readCursor(new KeyLayout(dataDir, user.z32).cursorFile)).toBe(String(hs.state.headCursor));
  });

  it('an idle catch-up of a running backup notices the reset too', async () => {
    const first = await homeserver();
    const user = await newUserWithFiles(first, { '/pub/a.txt': 'A', '/pub/b.txt': 'B' });
    const dataDir = await backupOf([{ hs: first, user }]);
    const manager = await openManager(dataDir, [user.z32]);
    await manager.syncOnce();
    const reset = await resetOnSamePort(first);
    const again = await signup(reset, { keypair: user.keypair });
    await put(reset, again, '/pub/new.txt', 'new');
    const [report] = await manager.syncOnce();
    expect(report).toMatchObject({ feedReset: true, stored: 1 });
  });
});

describe('a user the homeserver does not know yet', () => {
  it('is waiting, not an error; the backup starts when the user appears', async () => {
    const hs = await homeserver();
    const later = await signup(await homeserver()); // a key, signed up elsewhere only
    const dataDir = await backupOf([{ hs, user: later }]);
    const manager = await openManager(dataDir, [later.z32]);
    const [first] = await manager.syncOnce();
    expect(first).toMatchObject({ waiting: true, stored: 0 });
    expect(manager.key(later.z32)?.status).toMatchObject({ state: 'waiting' });
    const user = await signup(hs, { keypair: later.keypair });
    await put(hs, user, '/pub/hello.txt', 'hi');
    const [second] = await manager.syncOnce();
    expect(second).toMatchObject({ waiting: false, stored: 1 });
    expect(manager.key(later.z32)?.status).toMatchObject({ state: 'idle' });
  });
});

describe('a file and a folder with the same name (homeserver paths are keys)', () => {
  it.each([
    ['file first', ['/pub/example.com/notes', '/pub/example.com/notes/today']],
    ['folder first', ['/pub/example.com/notes/today', '/pub/example.com/notes']],
  ])('%s: both backed up, snapshotted and extracted', async (_, order) => {
    const hs = await homeserver();
    const user: TestUser = await signup(hs);
    const dataDir = await backupOf([{ hs, user }]);
    for (const path of order) {
      await put(hs, user, path, `content of ${path}`);
      await syncOnce(dataDir, user.z32); // each arrives in its own sync: the order matters on disk
    }
    const report = await syncOnce(dataDir, user.z32);
    expect(report).toMatchObject({ failed: 0, pendingRetries: 0 });
    const keyDir = new KeyLayout(dataDir, user.z32).keyDir;
    expect(await readdir(join(keyDir, 'data/pub/example.com/notes'))).toEqual(['%2E', 'today']);

    const snapshot = await snapshotKey(dataDir, user.z32, { tool: 'test' });
    expect(snapshot.files).toBe(2);
    const out = await mkdtemp(join(tmpdir(), 'pubky-extract-'));
    const extracted = await extractSnapshot(snapshot.file, out);
    expect(extracted).toMatchObject({ files: 2, failed: [] });
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(join(out, 'pub/example.com/notes/%2E'), 'utf8')).toBe(
      'content of /pub/example.com/notes',
    );
    expect(await readFile(join(out, 'pub/example.com/notes/today'), 'utf8')).toBe(
      'content of /pub/example.com/notes/today',
    );
  });
});
