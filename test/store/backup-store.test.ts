import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BackupStore,
  fsDriver,
  hashStream,
  homeserverPathOf,
  type StoreDriver,
} from '../../src/store/index.js';

let keyDir: string;
const clock = { now: new Date('2024-05-06T07:08:09.010Z') };
const open = () => BackupStore.openFs(keyDir, { now: () => clock.now });

beforeEach(async () => {
  keyDir = await mkdtemp(join(tmpdir(), 'pubky-store-'));
  clock.now = new Date('2024-05-06T07:08:09.010Z');
});
afterEach(async () => {
  await rm(keyDir, { recursive: true, force: true });
});

async function put(store: BackupStore, storePath: string, ...chunks: string[]) {
  const staged = await store.stage(storePath);
  for (const chunk of chunks) await staged.write(Buffer.from(chunk));
  return staged.commit();
}

async function readAll(store: BackupStore, storePath: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of store.read(storePath)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** The file kept for a store path, wherever the store placed it (see `BackupStore.locate`). */
async function readText(store: BackupStore, storePath: string): Promise<string | undefined> {
  const at = await store.locate(storePath);
  return at && (await readAll(store, at.path)).toString();
}

const tmpFiles = () => (existsSync(join(keyDir, 'tmp')) ? readdirSync(join(keyDir, 'tmp')) : []);

describe('BackupStore stage/commit', () => {
  it('writes a new file in chunks, creating folders, with nothing left in tmp/', async () => {
    const store = open();
    expect(await put(store, 'data/pub/app/deep/file.txt', 'hello ', 'world')).toEqual({
      mtimeMs: expect.any(Number),
    });
    expect(await readFile(join(keyDir, 'data/pub/app/deep/file.txt'), 'utf8')).toBe('hello world');
    expect(await store.stat('data/pub/app/deep/file.txt')).toEqual({ size: 11 });
    expect(tmpFiles()).toEqual([]);
  });

  it('writes an empty file', async () => {
    const store = open();
    await put(store, 'data/pub/empty');
    expect(await store.stat('data/pub/empty')).toEqual({ size: 0 });
  });

  it('keeps the previous version byte-identical in versions/', async () => {
    const store = open();
    const old = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const staged = await store.stage('data/pub/a/b.bin');
    await staged.write(old);
    await staged.commit();
    const result = await put(store, 'data/pub/a/b.bin', 'new content');
    expect(result).toEqual({
      replaced: 'versions/pub/a/b.bin~2024-05-06_07-08-09.010',
      mtimeMs: expect.any(Number),
    });
    expect(await readFile(join(keyDir, 'versions/pub/a/b.bin~2024-05-06_07-08-09.010'))).toEqual(old);
    expect(await readFile(join(keyDir, 'data/pub/a/b.bin'), 'utf8')).toBe('new content');
  });

  it('adds -2, -3 when a version name is taken', async () => {
    const store = open();
    await put(store, 'data/pub/f', 'v1');
    expect((await put(store, 'data/pub/f', 'v2')).replaced).toBe('versions/pub/f~2024-05-06_07-08-09.010');
    expect((await put(store, 'data/pub/f', 'v3')).replaced).toBe('versions/pub/f~2024-05-06_07-08-09.010-2');
    expect((await put(store, 'data/pub/f', 'v4')).replaced).toBe('versions/pub/f~2024-05-06_07-08-09.010-3');
    expect(await readFile(join(keyDir, 'versions/pub/f~2024-05-06_07-08-09.010-2'), 'utf8')).toBe('v2');
  });

  it('keeps every version when commits to one path race', async () => {
    const store = open();
    await put(store, 'data/pub/race', 'v0');
    const staged = await Promise.all([1, 2, 3, 4].map(() => store.stage('data/pub/race')));
    await Promise.all(staged.map((s, i) => s.write(Buffer.from(`v${i + 1}`))));
    await Promise.all(staged.map((s) => s.commit()));
    const versions = readdirSync(join(keyDir, 'versions/pub'));
    expect(versions).toHaveLength(4);
    const contents = await Promise.all(
      versions.map((v) => readFile(join(keyDir, 'versions/pub', v), 'utf8')),
    );
    const final = await readFile(join(keyDir, 'data/pub/race'), 'utf8');
    expect([...contents, final].sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('shortens a long name so the version name stays within 255 bytes', async () => {
    const store = open();
    const name = 'n'.repeat(255);
    await put(store, `data/pub/${name}`, 'a');
    const { replaced } = await put(store, `data/pub/${name}`, 'b');
    const versionName = replaced?.split('/').pop() ?? '';
    expect(Buffer.byteLength(versionName)).toBeLessThanOrEqual(255);
    expect(versionName.endsWith('~2024-05-06_07-08-09.010')).toBe(true);
    expect(await readFile(join(keyDir, replaced as string), 'utf8')).toBe('a');
  });

  it('abort drops the temp file and leaves the final path alone', async () => {
    const store = open();
    await put(store, 'data/pub/keep', 'old');
    const staged = await store.stage('data/pub/keep');
    await staged.write(Buffer.from('partial'));
    expect(tmpFiles()).toHaveLength(1);
    await staged.abort();
    await staged.abort();
    expect(tmpFiles()).toEqual([]);
    expect(await readFile(join(keyDir, 'data/pub/keep'), 'utf8')).toBe('old');
    await expect(staged.commit()).rejects.toThrow();
    await expect(staged.write(Buffer.from('x'))).rejects.toThrow();
  });

  it('streams a large file in and out with a matching hash', async () => {
    const store = open();
    const chunk = Buffer.alloc(1024 * 1024);
    const staged = await store.stage('data/pub/big.bin');
    for (let i = 0; i < 9; i++) {
      chunk.fill(i);
      await staged.write(chunk); // reusing the chunk after the promise settles is allowed
    }
    await staged.commit();
    let chunks = 0;
    let maxChunk = 0;
    for await (const part of store.read('data/pub/big.bin')) {
      chunks++;
      maxChunk = Math.max(maxChunk, part.byteLength);
    }
    expect(maxChunk).toBe(256 * 1024);
    expect(chunks).toBe(36);
    const expected = await hashStream(
      (async function* () {
        for (let i = 0; i < 9; i++) yield Buffer.alloc(1024 * 1024, i);
      })(),
    );
    expect(await hashStream(store.read('data/pub/big.bin'))).toEqual(expected);
    expect(expected.size).toBe(9 * 1024 * 1024);
  });

  it('refuses store paths that could leave data/', async () => {
    const store = open();
    for (const bad of [
      'pub/a',
      'data',
      'data/',
      'data/pub/../../x',
      'data//a',
      'data/./a',
      '/data/a',
      'data/a\\b',
    ]) {
      await expect(store.stage(bad), bad).rejects.toThrow(/safe store path/);
      await expect(store.remove(bad), bad).rejects.toThrow(/safe store path/);
    }
  });

  // Homeserver paths are keys: /pub/dir and /pub/dir/child can both exist. In either order both
  // are kept, the file of the folder's name inside it as `%2E`, and read back under its own path.
  it.each([
    ['folder first', ['data/pub/dir/child', 'data/pub/dir']],
    ['file first', ['data/pub/dir', 'data/pub/dir/child']],
    ['file first, deeper', ['data/pub/dir', 'data/pub/dir/sub/child']],
  ])('a file and a folder with the same name: %s', async (_, order) => {
    const store = open();
    for (const path of order) await put(store, path, path);
    const listed = (await store.listData()).map((f) => f.storePath);
    expect(listed).toContain('data/pub/dir/%2E');
    expect(listed.map(homeserverPathOf).sort()).toEqual(order.map(homeserverPathOf).sort());
    for (const path of order) expect(await readText(store, path)).toBe(path);
    expect(await store.stat('data/pub/dir')).toEqual({ size: 'data/pub/dir'.length });
    expect(tmpFiles()).toEqual([]);
    // Replacing and removing the file of the folder's name works through the same path.
    await put(store, 'data/pub/dir', 'new');
    expect(await readText(store, 'data/pub/dir')).toBe('new');
    expect(await store.remove('data/pub/dir')).toMatch(/^versions\/pub\/dir~/);
    expect(await store.stat('data/pub/dir')).toBeUndefined();
    expect(await readText(store, order.find((p) => p !== 'data/pub/dir') as string)).toBeDefined();
  });

  it('a file and a folder with the same name written at the same moment: both kept, every time', async () => {
    for (let round = 0; round < 20; round++) {
      const store = open();
      const base = `data/pub/r${round}`;
      const order = round % 2 ? [base, `${base}/child`] : [`${base}/child`, base];
      await Promise.all(order.map((path) => put(store, path, path)));
      for (const path of order) expect(await readText(store, path)).toBe(path);
    }
    expect(tmpFiles()).toEqual([]);
  });

  it('a relocation interrupted by a crash is finished by cleanTemp, never lost', async () => {
    const store = open();
    await put(store, 'data/pub/dir', 'file');
    // The state a crash leaves after the file moved out and before it moved in: intent + holding file.
    mkdirSync(join(keyDir, 'tmp'), { recursive: true });
    writeFileSync(
      join(keyDir, 'tmp/x.relocate.json'),
      JSON.stringify({ from: 'data/pub/dir', to: 'data/pub/dir/%2E' }),
    );
    renameSync(join(keyDir, 'data/pub/dir'), join(keyDir, 'tmp/x.relocating'));
    await open().cleanTemp();
    expect(readFileSync(join(keyDir, 'data/pub/dir/%2E'), 'utf8')).toBe('file');
    expect(tmpFiles()).toEqual([]);
  });
});

describe('BackupStore crash safety', () => {
  it('a crash while writing leaves the final path untouched; cleanTemp removes the leftover', async () => {
    const store = open();
    await put(store, 'data/pub/doc', 'committed');
    const staged = await store.stage('data/pub/doc');
    await staged.write(Buffer.from('half a downl'));
    // The process dies here: the StagedFile is never committed nor aborted.
    expect(await readFile(join(keyDir, 'data/pub/doc'), 'utf8')).toBe('committed');
    expect(tmpFiles()).toHaveLength(1);

    const restarted = open();
    expect(await restarted.cleanTemp()).toBe(1);
    expect(tmpFiles()).toEqual([]);
    expect(await restarted.listData()).toEqual([{ storePath: 'data/pub/doc', size: 9 }]);
    expect(await restarted.cleanTemp()).toBe(0);
  });

  it('a failure between keeping the version and the rename leaves the old file in place', async () => {
    const real = fsDriver(keyDir);
    let failRename = false;
    const driver: StoreDriver = {
      ...real,
      move: async (from, to) => {
        if (failRename) throw new Error('simulated crash');
        await real.move?.(from, to);
      },
    };
    const store = new BackupStore(driver, { now: () => clock.now });
    await put(store, 'data/pub/x', 'old');
    failRename = true;
    await expect(put(store, 'data/pub/x', 'new')).rejects.toThrow('simulated crash');
    expect(await readFile(join(keyDir, 'data/pub/x'), 'utf8')).toBe('old');
    expect(tmpFiles()).toEqual([]);
    // The version kept before the failure is a full copy too.
    expect(await readFile(join(keyDir, 'versions/pub/x~2024-05-06_07-08-09.010'), 'utf8')).toBe('old');
  });

  it('a failed write makes commit reject and removes the temp file', async () => {
    const real = fsDriver(keyDir);
    const driver: StoreDriver = {
      ...real,
      openWrite: async (path) => {
        const writer = await (real.openWrite as NonNullable<StoreDriver['openWrite']>)(path);
        return { write: async () => Promise.reject(new Error('disk full')), close: () => writer.close() };
      },
    };
    const store = new BackupStore(driver);
    await put(open(), 'data/pub/x', 'old');
    const staged = await store.stage('data/pub/x');
    await expect(staged.write(Buffer.from('a'))).rejects.toThrow('disk full');
    await expect(staged.write(Buffer.from('b'))).rejects.toThrow('disk full');
    await expect(staged.commit()).rejects.toThrow('disk full');
    await staged.abort();
    expect(tmpFiles()).toEqual([]);
    expect(await readFile(join(keyDir, 'data/pub/x'), 'utf8')).toBe('old');
  });

  it('fsyncs the temp file before its rename, and the folders it touched on flush', async () => {
    const real = fsDriver(keyDir);
    const calls: string[] = [];
    const driver: StoreDriver = {
      operator: real.operator,
      syncFile: async (p) => {
        calls.push(`file ${p.startsWith('tmp/') ? 'tmp/…' : p}`);
        await real.syncFile(p);
      },
      syncDir: async (p) => {
        calls.push(`dir ${p}`);
        await real.syncDir(p);
      },
      keepCopy: async (from, to) => {
        calls.push(`keep ${from} ${to}`);
        await real.keepCopy(from, to);
      },
    };
    const store = new BackupStore(driver, { now: () => clock.now });
    await put(store, 'data/pub/a/f', '1');
    expect(calls).toEqual(['file tmp/…']);
    await store.flush();
    expect(calls).toEqual(['file tmp/…', 'dir data/pub/a', 'dir data/pub', 'dir data', 'dir ']);
    calls.length = 0;
    await store.flush();
    expect(calls).toEqual([]); // nothing new to make durable
    await put(store, 'data/pub/a/f', '2');
    await store.flush();
    expect(calls).toEqual([
      'file tmp/…',
      'keep data/pub/a/f versions/pub/a/f~2024-05-06_07-08-09.010',
      'dir versions/pub/a',
      'dir versions/pub',
      'dir versions',
      'dir ',
      'dir data/pub/a',
    ]);
  });
});

/** A promise opened from outside. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets pending callbacks and I/O completions run (no timers involved). */
const turns = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** The fs driver whose writers wait for `hold` before their close (fsync): commits stay pending. */
function holdingDriver(hold: Promise<void>, syncedDirs: string[] = []): StoreDriver {
  const real = fsDriver(keyDir);
  const openWrite = real.openWrite as NonNullable<StoreDriver['openWrite']>;
  return {
    ...real,
    syncDir: async (p) => {
      syncedDirs.push(p);
      await real.syncDir(p);
    },
    openWrite: async (path) => {
      const writer = await openWrite(path);
      return {
        write: (chunk) => writer.write(chunk),
        drain: () => writer.drain?.() ?? Promise.resolve(),
        cancel: () => writer.cancel?.() ?? Promise.resolve(),
        close: async () => {
          await hold;
          return writer.close();
        },
      };
    },
  };
}

describe('BackupStore commitLater (deferred commits)', () => {
  it('returns with the bytes in the temp file; flush waits for the pending commit and syncs its folder', async () => {
    const held = gate();
    const syncedDirs: string[] = [];
    const store = new BackupStore(holdingDriver(held.promise, syncedDirs));
    const staged = await store.stage('data/pub/a/f');
    await staged.write(Buffer.from('hello'));
    const { committed } = await staged.commitLater();
    // The slot is free: every byte is already written to the temp file (not held in memory).
    const [temp] = tmpFiles();
    expect(readFileSync(join(keyDir, 'tmp', temp as string), 'utf8')).toBe('hello');
    expect(store.pendingCommits).toBe(1);

    let flushed = false;
    const flushing = store.flush().then(() => {
      flushed = true;
    });
    await turns();
    expect(flushed).toBe(false);
    expect(syncedDirs).toEqual([]);
    expect(existsSync(join(keyDir, 'data/pub/a/f'))).toBe(false);

    held.open();
    await flushing;
    expect(await committed).toEqual({ mtimeMs: expect.any(Number) });
    expect(readFileSync(join(keyDir, 'data/pub/a/f'), 'utf8')).toBe('hello');
    expect(syncedDirs).toContain('data/pub/a');
    expect(tmpFiles()).toEqual([]);
    expect(store.pendingCommits).toBe(0);
  });

  it('stores share one bounded commit queue, and each flush waits only for its own commits', async () => {
    const held = gate();
    const blocked = new BackupStore(holdingDriver(held.promise));
    const other = open();
    const slow = await blocked.stage('data/pub/slow');
    await slow.write(Buffer.from('slow'));
    const pending = await slow.commitLater();
    const quick = await other.stage('data/pub/quick');
    await quick.write(Buffer.from('quick'));
    const done = await quick.commitLater();
    await other.flush(); // does not wait for the other store's commit
    await done.committed;
    expect(readFileSync(join(keyDir, 'data/pub/quick'), 'utf8')).toBe('quick');
    expect(blocked.pendingCommits).toBe(1);
    held.open();
    await blocked.flush();
    await pending.committed;
    expect(blocked.pendingCommits).toBe(0);
  });

  it('a commit that fails in the background rejects `committed`, keeps the old file, leaves no temp file', async () => {
    const real = fsDriver(keyDir);
    const driver: StoreDriver = {
      ...real,
      move: async (from, to) => {
        if (to === 'data/pub/x') throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
        await real.move?.(from, to);
      },
    };
    await put(open(), 'data/pub/x', 'old');
    const store = new BackupStore(driver, { now: () => clock.now });
    const staged = await store.stage('data/pub/x');
    await staged.write(Buffer.from('new'));
    const { committed } = await staged.commitLater();
    await expect(committed).rejects.toThrow('EIO');
    await store.flush();
    expect(readFileSync(join(keyDir, 'data/pub/x'), 'utf8')).toBe('old');
    expect(tmpFiles()).toEqual([]);
    await staged.abort(); // harmless after a failed commit
  });

  it('a commit not yet started when the signal aborts drops its temp file and rejects', async () => {
    const held = gate();
    const store = new BackupStore(holdingDriver(held.promise), { commitConcurrency: 1, commitLimit: 2 });
    const first = await store.stage('data/pub/first');
    await first.write(Buffer.from('1'));
    const running = await first.commitLater();
    const controller = new AbortController();
    const second = await store.stage('data/pub/second');
    await second.write(Buffer.from('2'));
    const waiting = await second.commitLater({ signal: controller.signal });
    controller.abort(new Error('stopped'));
    held.open();
    await running.committed;
    await expect(waiting.committed).rejects.toThrow('stopped');
    expect(existsSync(join(keyDir, 'data/pub/second'))).toBe(false);
    expect(readFileSync(join(keyDir, 'data/pub/first'), 'utf8')).toBe('1');
    expect(tmpFiles()).toEqual([]);
  });

  it('admits a bounded number of commits: the next caller waits until one finishes', async () => {
    const held = gate();
    const store = new BackupStore(holdingDriver(held.promise), { commitConcurrency: 1, commitLimit: 2 });
    const commits: Array<Promise<unknown>> = [];
    for (const name of ['a', 'b']) {
      const staged = await store.stage(`data/pub/${name}`);
      await staged.write(Buffer.from(name));
      commits.push((await staged.commitLater()).committed);
    }
    const third = await store.stage('data/pub/c');
    await third.write(Buffer.from('c'));
    let admitted = false;
    const admission = third.commitLater().then((r) => {
      admitted = true;
      return r;
    });
    await turns();
    expect(admitted).toBe(false);
    expect(store.pendingCommits).toBe(2);
    held.open();
    commits.push((await admission).committed);
    await Promise.all(commits);
    await store.flush();
    expect(await store.listData()).toEqual([
      { storePath: 'data/pub/a', size: 1 },
      { storePath: 'data/pub/b', size: 1 },
      { storePath: 'data/pub/c', size: 1 },
    ]);
  });
});

describe('BackupStore remove, stat, list', () => {
  it('remove moves the file to versions/ and never deletes', async () => {
    const store = open();
    await put(store, 'data/pub/gone.txt', 'bye');
    const version = await store.remove('data/pub/gone.txt');
    expect(version).toBe('versions/pub/gone.txt~2024-05-06_07-08-09.010');
    expect(existsSync(join(keyDir, 'data/pub/gone.txt'))).toBe(false);
    expect(await readFile(join(keyDir, version as string), 'utf8')).toBe('bye');
    expect(await store.remove('data/pub/gone.txt')).toBeUndefined();
    expect(await store.stat('data/pub/gone.txt')).toBeUndefined();
  });

  it('remove after an overwrite at the same millisecond picks a free name', async () => {
    const store = open();
    await put(store, 'data/pub/f', 'v1');
    await put(store, 'data/pub/f', 'v2');
    expect(await store.remove('data/pub/f')).toBe('versions/pub/f~2024-05-06_07-08-09.010-2');
  });

  it('stat of a folder or a missing file is undefined', async () => {
    const store = open();
    await put(store, 'data/pub/a/b', 'x');
    expect(await store.stat('data/pub/a')).toBeUndefined();
    expect(await store.stat('data/pub/nope')).toBeUndefined();
  });

  it('listData lists files under data/ only, with sizes, sorted', async () => {
    const store = open();
    expect(await store.listData()).toEqual([]);
    await put(store, 'data/pub/z', '12345');
    await put(store, 'data/pub/a/naïve café %252e', '1');
    await put(store, 'data/pub/a/b/c', '');
    await put(store, 'data/pub/z', 'overwritten');
    await mkdir(join(keyDir, 'data/pub/empty-dir'), { recursive: true });
    await writeFile(join(keyDir, 'tmp-outside'), 'x');
    expect(await store.listData()).toEqual([
      { storePath: 'data/pub/a/b/c', size: 0 },
      { storePath: 'data/pub/a/naïve café %252e', size: 1 },
      { storePath: 'data/pub/z', size: 11 },
    ]);
  });

  it('read of a missing file rejects', async () => {
    const store = open();
    await expect(readAll(store, 'data/pub/missing')).rejects.toThrow(/NotFound|ENOENT/);
  });
});
