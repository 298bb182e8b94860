import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackupStore, FileIndex, hashStream, type IndexEntry, rebuildIndex } from '../../src/store/index.js';
import { tempDirFixture } from '../helpers/temp-dir.js';

let dir: string;
let file: string;
tempDirFixture('pubky-index-', (created) => {
  dir = created;
  file = join(dir, 'state', 'index.jsonl');
});

const entry = (path: string, cursor = '1', extra: Partial<IndexEntry> = {}): IndexEntry => ({
  path,
  size: 3,
  blake3: 'rxNJufX5oaagQE3qNtzJSZvLJcmtwRK3zJqTyuQfMmI=',
  cursor,
  ...extra,
});
const journalLines = async () => (await readFile(file, 'utf8')).split('\n').filter(Boolean);

describe('FileIndex', () => {
  it('starts empty and writes nothing until flush', async () => {
    const index = await FileIndex.open(file);
    expect(index.size).toBe(0);
    index.set(entry('/pub/a'));
    expect(index.get('/pub/a')).toEqual(entry('/pub/a'));
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
    await index.flush();
    expect(await journalLines()).toEqual([JSON.stringify({ set: entry('/pub/a') })]);
  });

  it('round-trips sets and deletes through the journal', async () => {
    const index = await FileIndex.open(file);
    index.set(entry('/pub/a', '1', { etag: '"x"' }));
    index.set(entry('/pub/b', '2'));
    index.set(entry('/pub/c', '3'));
    await index.flush();
    index.delete('/pub/b');
    index.set(entry('/pub/a', '4'));
    expect(index.delete('/pub/missing')).toBe(false);
    await index.flush();
    await index.flush(); // nothing pending: no line added
    expect(await journalLines()).toHaveLength(5);

    const reopened = await FileIndex.open(file);
    expect(reopened.size).toBe(2);
    expect(reopened.get('/pub/a')).toEqual(entry('/pub/a', '4'));
    expect(reopened.get('/pub/b')).toBeUndefined();
    expect([...reopened.entries()].map((e) => e.path).sort()).toEqual(['/pub/a', '/pub/c']);
  });

  it('ignores a torn last line and appends cleanly after it', async () => {
    const index = await FileIndex.open(file);
    index.set(entry('/pub/a'));
    await index.flush();
    await appendFile(file, '{"set":{"path":"/pub/torn","si');

    const before = await readFile(file, 'utf8');
    const reopened = await FileIndex.open(file);
    expect(reopened.size).toBe(1);
    expect(reopened.get('/pub/torn')).toBeUndefined();
    expect(await readFile(file, 'utf8')).toBe(before); // opening never writes
    reopened.set(entry('/pub/b'));
    await reopened.flush();
    const again = await FileIndex.open(file);
    expect([...again.entries()].map((e) => e.path).sort()).toEqual(['/pub/a', '/pub/b']);
    expect(await journalLines()).toHaveLength(2);
  });

  it('skips a damaged line in the middle', async () => {
    await mkdir(join(dir, 'state'));
    const good = (path: string) => JSON.stringify({ set: entry(path) });
    await writeFile(file, `${good('/pub/a')}\nnot json\n{"set":{"path":1}}\n${good('/pub/b')}\n`);
    const index = await FileIndex.open(file);
    expect(index.size).toBe(2);
  });

  it('compacts when dead lines exceed twice the live entries', async () => {
    const index = await FileIndex.open(file);
    index.set(entry('/pub/keep'));
    await index.flush();
    for (let i = 0; i < 2; i++) {
      index.set(entry('/pub/keep', String(i + 2)));
      await index.flush();
    }
    // 3 lines, 1 live, 2 dead: not yet.
    expect(await journalLines()).toHaveLength(3);
    index.set(entry('/pub/keep', '9'));
    await index.flush();
    // 4 lines, 1 live, 3 dead > 2: rewritten to the live entries.
    expect(await journalLines()).toEqual([JSON.stringify({ set: entry('/pub/keep', '9') })]);
    expect((await FileIndex.open(file)).get('/pub/keep')?.cursor).toBe('9');
  });

  it('compacts a journal found mostly dead at open on the first flush', async () => {
    await mkdir(join(dir, 'state'));
    const lines = [
      { set: entry('/pub/a') },
      { set: entry('/pub/b') },
      { del: '/pub/a' },
      { set: entry('/pub/b', '5') },
      { del: '/pub/nothing' },
    ];
    await writeFile(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    const index = await FileIndex.open(file);
    expect(index.size).toBe(1);
    expect(await journalLines()).toHaveLength(5); // opening never writes
    await index.flush();
    expect(await journalLines()).toEqual([JSON.stringify({ set: entry('/pub/b', '5') })]);
  });

  it('changes made during a flush are kept for the next one', async () => {
    const index = await FileIndex.open(file);
    index.set(entry('/pub/a'));
    const flushing = index.flush();
    index.set(entry('/pub/b'));
    await flushing;
    await index.flush();
    expect((await FileIndex.open(file)).size).toBe(2);
  });

  it('returns copies, so callers cannot change it behind its back', async () => {
    const index = await FileIndex.open(file);
    const e = entry('/pub/a');
    index.set(e);
    e.size = 99;
    const got = index.get('/pub/a') as IndexEntry;
    got.size = 77;
    expect(index.get('/pub/a')?.size).toBe(3);
  });
});

describe('rebuildIndex', () => {
  it('rebuilds from the data files, keeping a matching old entry and using the cursor otherwise', async () => {
    const keyDir = join(dir, 'key');
    const store = BackupStore.openFs(keyDir);
    for (const [storePath, text] of [
      ['data/pub/same.txt', 'abc'],
      ['data/pub/changed.txt', 'new'],
      ['data/pub/%43ON/%2541 é', ''],
    ] as const) {
      const staged = await store.stage(storePath);
      await staged.write(Buffer.from(text));
      await staged.commit();
    }
    const hashOf = async (text: string) =>
      hashStream(
        (async function* () {
          yield Buffer.from(text);
        })(),
      );
    const old = await FileIndex.open(file);
    old.set({
      path: '/pub/same.txt',
      size: 3,
      blake3: (await hashOf('abc')).blake3,
      etag: '"e"',
      cursor: '7',
    });
    old.set({ path: '/pub/changed.txt', size: 3, blake3: (await hashOf('old')).blake3, cursor: '8' });
    old.set({ path: '/pub/deleted.txt', size: 1, blake3: 'x', cursor: '9' });
    await old.flush();

    // Without --accept: differences reported, not adopted (the damaged hash is never vouched for).
    const kept = await rebuildIndex(store, file, { cursor: '42' });
    expect(kept.differences.map((d) => `${d.change} ${d.path}`).sort()).toEqual([
      'added /pub/CON/%41 é',
      'changed /pub/changed.txt',
      'removed /pub/deleted.txt',
    ]);
    expect(kept.index.get('/pub/changed.txt')?.blake3).toBe((await hashOf('old')).blake3);
    expect(kept.index.get('/pub/deleted.txt')).toBeDefined();

    const { index } = await rebuildIndex(store, file, { cursor: '42', accept: true });
    const plain = [...index.entries()]
      .map(({ mtimeMs: _, ...entry }) => entry)
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(plain).toEqual([
      {
        path: '/pub/CON/%41 é',
        size: 0,
        blake3: 'rxNJufX5oaagQE3qNtzJSZvLJcmtwRK3zJqTyuQfMmI=',
        cursor: '42',
      },
      { path: '/pub/changed.txt', size: 3, blake3: (await hashOf('new')).blake3, cursor: '42' },
      { path: '/pub/same.txt', size: 3, blake3: (await hashOf('abc')).blake3, etag: '"e"', cursor: '7' },
    ]);
    expect((await FileIndex.open(file)).size).toBe(3);
  });
});
