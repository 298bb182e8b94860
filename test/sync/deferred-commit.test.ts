import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomeserverClient } from '../../src/homeserver/index.js';
import {
  BackupStore,
  FileIndex,
  fsDriver,
  KeyLayout,
  RetryQueue,
  readCursor,
  type StoreDriver,
} from '../../src/store/index.js';
import { BatchAborted, KeySync } from '../../src/sync/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { put, startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupOf, localFile, newUserWithFiles } from '../helpers/sync.js';

// Downloads hand their commit (fsync + rename) to the store's background queue and free their slot;
// these drills check that a commit failing there, or a process killed while commits are pending,
// never lets the cursor pass a file that is neither durable nor in the retry queue.

let hs: Homeserver;
let user: TestUser;
let dataDir: string;
const clock = { ms: Date.now() };
beforeEach(async () => {
  hs = await startHomeserver();
  clock.ms = Date.now();
});
afterEach(() => hs.close());

const layout = () => new KeyLayout(dataDir, user.z32);
const tempFiles = () => readdir(join(layout().keyDir, 'tmp')).catch(() => [] as string[]);
const local = async (path: string) => (await localFile(dataDir, user.z32, path))?.toString();

/** A KeySync over the fs store with `driver` wrapped around it. */
async function openSync(wrap: (real: StoreDriver) => StoreDriver = (real) => real) {
  const store = new BackupStore(wrap(fsDriver(layout().keyDir)), { commitConcurrency: 2, commitLimit: 4 });
  return KeySync.open({
    dataDir,
    pubky: user.z32,
    store,
    client: new HomeserverClient({ baseUrl: hs.url }),
    downloads: new PQueue({ concurrency: 4 }),
    now: () => clock.ms,
  });
}

/** A driver whose fsync (the writer's close) throws `error` for store paths `failing` selects. */
function failingClose(failing: (tempPath: string) => boolean, error: () => Error) {
  return (real: StoreDriver): StoreDriver => ({
    ...real,
    openWrite: async (path) => {
      const writer = await (real.openWrite as NonNullable<StoreDriver['openWrite']>)(path);
      return {
        write: (chunk) => writer.write(chunk),
        drain: () => writer.drain?.() ?? Promise.resolve(),
        cancel: () => writer.cancel?.() ?? Promise.resolve(),
        close: async () => {
          if (!failing(path)) return writer.close();
          await writer.cancel?.();
          throw error();
        },
      };
    },
  });
}

/** Every index entry stands for a file of that size on disk (the index never vouches for less). */
async function indexMatchesDisk(): Promise<string[]> {
  const index = await FileIndex.open(layout().indexFile);
  const wrong: string[] = [];
  for (const entry of index.entries()) {
    const file = join(layout().keyDir, 'data', entry.path);
    const size = existsSync(file) ? (await stat(file)).size : -1;
    if (size !== entry.size) wrong.push(`${entry.path}: index ${entry.size} B, disk ${size}`);
  }
  return wrong;
}

describe('deferred commits', () => {
  it('a commit that fails after the slot was freed goes to the retry queue before the cursor moves; a retry stores it', async () => {
    user = await newUserWithFiles(hs, { '/pub/a.txt': 'A', '/pub/b.txt': 'B', '/pub/c.txt': 'C' });
    dataDir = await backupOf([{ hs, user }]);
    let renameFails = true;
    const sync = await openSync((real) => ({
      ...real,
      move: async (from, to) => {
        if (renameFails && to === 'data/pub/b.txt') {
          throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
        }
        await real.move?.(from, to);
      },
    }));

    const report = await sync.catchUp();
    expect(report).toMatchObject({ stored: 2, failed: 1, pendingRetries: 1 });
    expect(await readCursor(layout().cursorFile)).toBe(String(hs.state.headCursor));
    // What the cursor passed is covered: b.txt is in the retry queue on disk, not in the index.
    const retry = await RetryQueue.open(layout().retryFile);
    expect(retry.get('/pub/b.txt')?.lastError).toMatch(/EIO/);
    const index = await FileIndex.open(layout().indexFile);
    expect(index.get('/pub/a.txt')).toBeDefined();
    expect(index.get('/pub/b.txt')).toBeUndefined();
    expect(await local('/pub/b.txt')).toBeUndefined();
    expect(await tempFiles()).toEqual([]);
    expect(await indexMatchesDisk()).toEqual([]);

    renameFails = false;
    clock.ms += 3_600_000;
    const retried = await sync.catchUp();
    expect(retried).toMatchObject({ stored: 1, failed: 0, pendingRetries: 0 });
    expect(await local('/pub/b.txt')).toBe('B');
    expect((await FileIndex.open(layout().indexFile)).get('/pub/b.txt')?.size).toBe(1);
  });

  it('a full disk at the deferred fsync aborts the batch as BatchAborted and keeps the cursor', async () => {
    user = await newUserWithFiles(hs, { '/pub/old.txt': 'old' });
    dataDir = await backupOf([{ hs, user }]);
    await (await openSync()).catchUp();
    const before = await readCursor(layout().cursorFile);
    for (let i = 0; i < 6; i++) await put(hs, user, `/pub/new-${i}.txt`, `new ${i}`);

    let full = true;
    const enospc = () =>
      Object.assign(new Error('ENOSPC: no space left on device, fsync'), { code: 'ENOSPC' });
    const sync = await openSync(failingClose(() => full, enospc));
    const error = await sync.catchUp().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BatchAborted);
    expect(error).toMatchObject({ code: 'DISK_FULL' });
    expect(await readCursor(layout().cursorFile)).toBe(before);
    expect((await RetryQueue.open(layout().retryFile)).size).toBe(0); // not filed as failed files
    expect(await tempFiles()).toEqual([]);
    expect(await indexMatchesDisk()).toEqual([]);

    full = false;
    const report = await sync.catchUp();
    expect(report).toMatchObject({ stored: 6, failed: 0 });
    expect(await readCursor(layout().cursorFile)).toBe(String(hs.state.headCursor));
    expect(await local('/pub/new-5.txt')).toBe('new 5');
  });

  it('kill -9 while commits are pending: the previous cursor stays, temp files are cleaned, the next run converges', {
    timeout: 60_000,
  }, async () => {
    user = await newUserWithFiles(hs, { '/pub/first.txt': 'first' });
    dataDir = await backupOf([{ hs, user }]);
    await (await openSync()).catchUp();
    const before = await readCursor(layout().cursorFile);
    const files: Record<string, string> = {};
    for (let i = 0; i < 24; i++) {
      files[`/pub/batch/${i}.txt`] = `file ${i} `.repeat(i + 1);
      await put(hs, user, `/pub/batch/${i}.txt`, files[`/pub/batch/${i}.txt`] as string);
    }

    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures/stuck-commits-child.mjs'), dataDir, user.z32, hs.url, '5'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const said = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', (code) =>
        reject(new Error(`the child exited (${code}) before its commits stuck: ${out}`)),
      );
    });
    expect(said).toBe('stuck');
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    // Mid-batch: bytes received into tmp/, commits pending, the cursor where the last batch left it.
    expect((await tempFiles()).length).toBeGreaterThan(0);
    expect(await readCursor(layout().cursorFile)).toBe(before);
    expect(await indexMatchesDisk()).toEqual([]);

    const restarted = await openSync(); // a new process: cleanTemp at open, the dead one's lock taken over
    expect(await tempFiles()).toEqual([]);
    const report = await restarted.catchUp();
    expect(report).toMatchObject({ failed: 0, pendingRetries: 0 });
    expect(await readCursor(layout().cursorFile)).toBe(String(hs.state.headCursor));
    for (const [path, body] of Object.entries(files)) expect(await local(path)).toBe(body);
    expect(await indexMatchesDisk()).toEqual([]);
    expect((await FileIndex.open(layout().indexFile)).size).toBe(25);
  });
});
