import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyLayout, readActivity, readCursor } from '../../src/store/index.js';
import type { SyncReport } from '../../src/sync/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { put, startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupOf, localFile, newUserWithFiles, openManager, versionsOf } from '../helpers/sync.js';

let hs: Homeserver;
let user: TestUser;
let dataDir: string;
const clock = { ms: Date.now() };
beforeEach(async () => {
  hs = await startHomeserver();
  user = await newUserWithFiles(hs, { '/pub/a.txt': 'A1' });
  dataDir = await backupOf([{ hs, user }]);
  clock.ms = Date.now();
  await sync(); // a.txt backed up before each fault
});
afterEach(() => hs.close());

async function sync(): Promise<SyncReport> {
  const manager = await openManager(dataDir, [user.z32], {}, () => clock.ms);
  const [result] = await manager.syncOnce();
  if (!result || 'error' in result) throw result?.error ?? new Error('no result');
  return result;
}
const local = async (path: string) => (await localFile(dataDir, user.z32, path))?.toString();
const layout = () => new KeyLayout(dataDir, user.z32);
async function tempLeftovers() {
  return readdir(join(layout().keyDir, 'tmp')).catch(() => []);
}

describe('sync under homeserver faults', () => {
  it('latency: slower, same result', async () => {
    hs.faults.add({ route: 'read', fault: { kind: 'latency', ms: 200 } });
    await put(hs, user, '/pub/b.txt', 'B');
    expect(await sync()).toMatchObject({ stored: 1, failed: 0 });
  });

  it('5xx a couple of times: retried in place, stored', async () => {
    hs.faults.add({ route: 'read', times: 2, fault: { kind: 'status', status: 503 } });
    await put(hs, user, '/pub/b.txt', 'B');
    expect(await sync()).toMatchObject({ stored: 1, failed: 0, pendingRetries: 0 });
  });

  it('5xx that persists: queued for retry, the cursor still advances, later retry succeeds', async () => {
    const remove = hs.faults.add({ route: 'read', fault: { kind: 'status', status: 500 } });
    await put(hs, user, '/pub/b.txt', 'B');
    const failed = await sync();
    expect(failed).toMatchObject({
      stored: 0,
      failed: 1,
      pendingRetries: 1,
      cursor: String(hs.state.headCursor),
    });
    expect(await local('/pub/b.txt')).toBeUndefined();
    remove();
    expect(await sync()).toMatchObject({ stored: 0, pendingRetries: 1 }); // not due yet (backoff)
    clock.ms += 60_000;
    expect(await sync()).toMatchObject({ stored: 1, pendingRetries: 0 });
    expect(await local('/pub/b.txt')).toBe('B');
    const types = (await readActivity(layout().activityLog)).map((a) => a.type);
    expect(types).toContain('file-failed');
    expect(types).toContain('retry-succeeded');
  });

  it('429 with a short Retry-After: waits and succeeds; a long one goes to the queue until then', async () => {
    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'rate-limit', retryAfterSeconds: 1 } });
    await put(hs, user, '/pub/b.txt', 'B');
    expect(await sync()).toMatchObject({ stored: 1, failed: 0 });

    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'rate-limit', retryAfterSeconds: 600 } });
    await put(hs, user, '/pub/c.txt', 'C');
    expect(await sync()).toMatchObject({ failed: 1, pendingRetries: 1 });
    clock.ms += 120_000; // past the normal backoff, not past Retry-After
    expect(await sync()).toMatchObject({ stored: 0, pendingRetries: 1 });
    clock.ms += 600_000;
    expect(await sync()).toMatchObject({ stored: 1, pendingRetries: 0 });
  });

  it('connection reset: retried, stored', async () => {
    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'reset' } });
    await put(hs, user, '/pub/b.txt', 'B');
    expect(await sync()).toMatchObject({ stored: 1, failed: 0 });
  });

  it('truncated body: never stored as good, the previous version stays, no temp files left', async () => {
    hs.faults.add({ route: 'read', fault: { kind: 'truncate', afterBytes: 5 } });
    await put(hs, user, '/pub/a.txt', 'A2 is a longer second version');
    expect(await sync()).toMatchObject({ stored: 0, failed: 1 });
    expect(await local('/pub/a.txt')).toBe('A1');
    expect(await tempLeftovers()).toEqual([]);
  });

  it('tampered bytes (differ from the ETag): refused, logged, previous version kept', async () => {
    hs.faults.add({ route: 'read', path: '/pub/a.txt', fault: { kind: 'tamper' } });
    await put(hs, user, '/pub/a.txt', 'A2');
    expect(await sync()).toMatchObject({ stored: 0, failed: 1, pendingRetries: 1 });
    expect(await local('/pub/a.txt')).toBe('A1');
    const log = await readActivity(layout().activityLog);
    expect(log.some((a) => a.type === 'integrity-error' && String(a.message).includes('/pub/a.txt'))).toBe(
      true,
    );
  });

  it('a silently dropped file (404 while the feed has it): recorded, never skipped silently', async () => {
    hs.faults.add({ route: 'read', path: '/pub/b.txt', fault: { kind: 'drop' } });
    await put(hs, user, '/pub/b.txt', 'B');
    const report = await sync();
    expect(report).toMatchObject({ stored: 0, failed: 1, pendingRetries: 1 });
    const log = await readActivity(layout().activityLog);
    expect(log.some((a) => a.type === 'file-missing')).toBe(true);
  });

  it('mass delete: the key pauses with files intact until the user accepts; then versions are kept', async () => {
    for (let i = 0; i < 30; i++) await put(hs, user, `/pub/m/${i}`, `${i}`);
    await sync();
    const cursor = await readCursor(layout().cursorFile);
    await hs.massDelete(user.z32);
    const paused = await sync();
    expect(paused).toMatchObject({ paused: true, deleted: 0 });
    expect(await readCursor(layout().cursorFile)).toBe(cursor);
    expect(await local('/pub/m/7')).toBe('7');

    const manager = await openManager(dataDir, [user.z32]);
    expect(await manager.key(user.z32)?.acceptDeletes()).toBe(true);
    const applied = await sync();
    expect(applied).toMatchObject({ paused: false, deleted: 31 });
    expect(await local('/pub/m/7')).toBeUndefined();
    expect(await versionsOf(dataDir, user.z32, '/pub/m/7')).toHaveLength(1);
    // The next deletes are guarded again.
    expect(await sync()).toMatchObject({ paused: false });
  });

  it('an old homeserver without /events-stream is followed through /events/ alone', async () => {
    hs.faults.add({ route: 'events-stream', fault: { kind: 'status', status: 404, body: 'Not Found' } });
    const other = await newUserWithFiles(hs, { '/pub/not-mine.txt': 'x' });
    await put(hs, user, '/pub/b.txt', 'B');
    expect(await sync()).toMatchObject({ stored: 1, ignored: 0, cursor: String(hs.state.headCursor) });
    expect(await local('/pub/b.txt')).toBe('B');
    expect(await localFile(dataDir, other.z32, '/pub/not-mine.txt')).toBeUndefined();
  });
});
