import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import { KeyLayout, readActivity, readCursor } from '../../src/store/index.js';
import type { SyncReport } from '../../src/sync/index.js';
import { type FakeResponse, NO_STREAM, sse, startFakeHomeserver } from '../helpers/fake-homeserver.js';
import { blake3Base64 } from '../helpers/homeserver.js';
import { backupOf, localFile, openManager } from '../helpers/sync.js';

const user = Keypair.fromSecret(new Uint8Array(32).fill(3)).publicKey.z32;
const uri = (path: string) => `pubky://${user}${path}`;
const hex = async (body: string) => Buffer.from(await blake3Base64(body), 'base64').toString('hex');

/** A backup folder with `user` pinned to `url`. */
const backupAt = (url: string) => backupOf([{ hs: { url }, user: { z32: user } }]);

async function syncOnce(dataDir: string): Promise<SyncReport> {
  const manager = await openManager(dataDir, [user]);
  const [result] = await manager.syncOnce();
  if (!result || 'error' in result) throw result?.error ?? new Error('no result');
  return result;
}

/** Serves files with the given ETag style, for the user only. */
function file(url: URL, files: Record<string, { body: string; etag: string }>): FakeResponse {
  const found = files[decodeURIComponent(url.pathname)];
  if (!found) return { status: 404, body: 'Not Found' };
  return {
    headers: { etag: `"${found.etag}"`, 'content-length': String(found.body.length) },
    body: found.body,
  };
}

describe('homeserver generations', () => {
  it('v0.6 stream with a hex content_hash and a hex ETag (older homeservers): verified and backed up', async () => {
    const files = { '/pub/a.txt': { body: 'hello', etag: await hex('hello') } };
    const fake = await startFakeHomeserver(async (url) => {
      if (url.pathname === '/events-stream') {
        if (!url.searchParams.get('user')?.endsWith(':0')) return sse([]);
        return sse([
          { event: 'PUT', data: [uri('/pub/a.txt'), 'cursor: 1', `content_hash: ${await hex('hello')}`] },
        ]);
      }
      return file(url, files);
    });
    const dataDir = await backupAt(fake.url);
    expect(await syncOnce(dataDir)).toMatchObject({ stored: 1, failed: 0, cursor: '1' });
    expect((await localFile(dataDir, user, '/pub/a.txt'))?.toString()).toBe('hello');
  });

  it('v0.5 (no stream, timestamp cursors, hex ETag): followed from 0000000000000, cursor kept as it is', async () => {
    const files = { '/pub/a.txt': { body: 'a', etag: await hex('a') } };
    const fake = await startFakeHomeserver((url) => {
      if (url.pathname === '/events-stream') return NO_STREAM;
      if (url.pathname === '/events/') {
        const cursor = url.searchParams.get('cursor');
        // A decimal cursor is refused by these homeservers, as pubky-homeserver 0.5 does.
        if (!/^[0-9A-Z]{13}$/.test(cursor ?? ''))
          return { status: 400, body: 'Cursor should be valid base32' };
        if (cursor !== '0000000000000') return { body: '' };
        return { body: `PUT ${uri('/pub/a.txt')}\ncursor: 0033RCZXVEPNG` };
      }
      return file(url, files);
    });
    const dataDir = await backupAt(fake.url);
    expect(await syncOnce(dataDir)).toMatchObject({ stored: 1, cursor: '0033RCZXVEPNG' });
    expect(await readCursor(new KeyLayout(dataDir, user).cursorFile)).toBe('0033RCZXVEPNG');
    expect(await syncOnce(dataDir)).toMatchObject({ stored: 0, cursor: '0033RCZXVEPNG' });
    expect(fake.requests).toContain('GET /events/?cursor=0033RCZXVEPNG&limit=1000');
  });

  it('v0.4 paths stored percent-encoded: found by sending the escapes as they are', async () => {
    const fake = await startFakeHomeserver(async (url) => {
      if (url.pathname === '/events-stream') return NO_STREAM;
      if (url.pathname === '/events/') {
        if (url.searchParams.get('cursor') !== '0000000000000') return { body: '' };
        return { body: `PUT ${uri('/pub/my%20file.txt')}\ncursor: 0033RCZXVEPNG` };
      }
      // The stored key is the raw request path.
      if (url.pathname === '/pub/my%20file.txt')
        return { headers: { etag: `"${await hex('x')}"` }, body: 'x' };
      return { status: 404, body: 'Not Found' };
    });
    const dataDir = await backupAt(fake.url);
    expect(await syncOnce(dataDir)).toMatchObject({ stored: 1, failed: 0 });
    expect((await localFile(dataDir, user, '/pub/my%2520file.txt'))?.toString()).toBe('x');
  });

  it('events of one page out of cursor order: the highest cursor per path wins, the highest cursor is kept', async () => {
    const files = { '/pub/a.txt': { body: 'v2', etag: await blake3Base64('v2') } };
    const fake = await startFakeHomeserver(async (url) => {
      if (url.pathname === '/events-stream') {
        if (!url.searchParams.get('user')?.endsWith(':0')) return sse([]);
        return sse([
          {
            event: 'PUT',
            data: [uri('/pub/a.txt'), 'cursor: 7', `content_hash: ${await blake3Base64('v2')}`],
          },
          { event: 'DEL', data: [uri('/pub/a.txt'), 'cursor: 5'] },
          {
            event: 'PUT',
            data: [uri('/pub/a.txt'), 'cursor: 3', `content_hash: ${await blake3Base64('v1')}`],
          },
        ]);
      }
      return file(url, files);
    });
    const dataDir = await backupAt(fake.url);
    expect(await syncOnce(dataDir)).toMatchObject({ stored: 1, deleted: 0, failed: 0, cursor: '7' });
    expect((await localFile(dataDir, user, '/pub/a.txt'))?.toString()).toBe('v2');
  });

  it('lines this client does not understand are skipped and reported; the rest is backed up', async () => {
    const files = { '/pub/a.txt': { body: 'a', etag: await blake3Base64('a') } };
    const fake = await startFakeHomeserver((url) => {
      if (url.pathname === '/events-stream') return NO_STREAM;
      if (url.pathname === '/events/') {
        if (url.searchParams.get('cursor') !== '0000000000000') return { body: 'cursor: ' };
        return { body: `MOVE ${uri('/pub/x')}\nPUT ${uri('/pub/a.txt')}\ngarbage\ncursor: 4` };
      }
      return file(url, files);
    });
    const dataDir = await backupAt(fake.url);
    expect(await syncOnce(dataDir)).toMatchObject({ stored: 1, skipped: 2, cursor: '4' });
    const skipped = (await readActivity(new KeyLayout(dataDir, user).activityLog)).filter(
      (a) => a.type === 'feed-entry-skipped',
    );
    expect(skipped.map((a) => a.message)).toEqual([
      expect.stringContaining(`MOVE ${uri('/pub/x')}`),
      expect.stringContaining('garbage'),
    ]);
    // An empty page with `cursor: ` (no value) is the head, not an error.
    expect(await syncOnce(dataDir)).toMatchObject({ stored: 0, skipped: 0, cursor: '4' });
  });
});

describe('a feed that does not move', () => {
  const stuck = async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `PUT ${uri(`/pub/${i}`)}`);
    return startFakeHomeserver((url) => {
      if (url.pathname === '/events-stream') return NO_STREAM;
      if (url.pathname === '/events/') return { body: `${lines.join('\n')}\ncursor: 10` };
      return { status: 404 };
    });
  };

  it('sync --once: a clear error naming the feed after a bounded number of requests', async () => {
    const fake = await stuck();
    const dataDir = await backupAt(fake.url);
    await writeFile(new KeyLayout(dataDir, user).cursorFile, '10');
    const manager = await openManager(dataDir, [user]);
    const [result] = await manager.syncOnce();
    expect(result && 'error' in result && result.error.message).toMatch(
      new RegExp(`events feed of homeserver ${fake.url} is stuck.*did not move past 10`),
    );
    expect(manager.key(user)?.status).toMatchObject({ state: 'error', code: 'FEED_STALLED' });
    expect(fake.requests.filter((r) => r.startsWith('GET /events/')).length).toBeLessThanOrEqual(3);
  });

  it('continuous mode rests instead of spinning', async () => {
    const fake = await stuck();
    const dataDir = await backupAt(fake.url);
    await writeFile(new KeyLayout(dataDir, user).cursorFile, '10');
    const manager = await openManager(dataDir, [user], { syncIntervalSeconds: 10 });
    const controller = new AbortController();
    const running = manager.run(controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    controller.abort();
    await running;
    expect(fake.requests.filter((r) => r.startsWith('GET /events/')).length).toBeLessThanOrEqual(3);
  });
});
