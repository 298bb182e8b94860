import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IndexTable } from '../../src/snapshot/index-table.js';
import { openJournal } from '../../src/store/index.js';

const hash = (i: number) => Buffer.alloc(32, i % 256).toString('base64');

describe('IndexTable', () => {
  it('keeps size and BLAKE3 per path through growth, replacement and deletion', () => {
    const table = new IndexTable();
    for (let i = 0; i < 5000; i++) table.set(`/pub/f/${i}`, i, hash(i));
    for (let i = 0; i < 5000; i += 2) table.delete(`/pub/f/${i}`);
    table.set('/pub/f/1', 99, hash(7));
    table.set('/pub/f/2', 2, hash(2)); // deleted, then set again
    expect(table.size).toBe(2501);
    expect(table.get('/pub/f/1')).toEqual({ size: 99, blake3: hash(7) });
    expect(table.get('/pub/f/2')).toEqual({ size: 2, blake3: hash(2) });
    expect(table.get('/pub/f/4')).toBeUndefined();
    expect(table.get('/pub/f/4999')).toEqual({ size: 4999, blake3: hash(4999) });
    expect(table.get('/pub/nothing')).toBeUndefined();
  });

  it('keeps a BLAKE3 that is not canonical base64 as text', () => {
    const table = new IndexTable();
    table.set('/pub/hex', 3, 'abcdef');
    table.set('/pub/naïve café', 4, hash(1));
    expect(table.get('/pub/hex')).toEqual({ size: 3, blake3: 'abcdef' });
    expect(table.get('/pub/naïve café')).toEqual({ size: 4, blake3: hash(1) });
  });

  it('loads a journal as FileIndex replays it: later lines win, deletions, damaged and torn lines skipped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-index-table-'));
    const file = join(dir, 'index.jsonl');
    const set = (path: string, size: number, blake3: string) =>
      `${JSON.stringify({ set: { path, size, blake3, cursor: '1' } })}\n`;
    // Long enough for several 1 MiB reads, with a multi-byte name on the boundaries somewhere.
    let text = '';
    for (let i = 0; i < 20_000; i++) text += set(`/pub/é/${i}-${'x'.repeat(40)}`, i, hash(i));
    text += set('/pub/a', 1, hash(1));
    text += 'not json\n';
    text += set('/pub/a', 2, hash(2));
    text += `${JSON.stringify({ del: '/pub/é/5-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' })}\n`;
    text += '{"set":{"path":"/pub/torn"'; // a crash mid-append
    await writeFile(file, text);
    const table = await IndexTable.load(await openJournal(file));
    expect(table.get('/pub/a')).toEqual({ size: 2, blake3: hash(2) });
    expect(table.get(`/pub/é/5-${'x'.repeat(40)}`)).toBeUndefined();
    expect(table.get(`/pub/é/19999-${'x'.repeat(40)}`)).toEqual({ size: 19999, blake3: hash(19999) });
    expect(table.get('/pub/torn')).toBeUndefined();
    expect(table.size).toBe(20_000);
    // A missing journal has no changes.
    expect((await IndexTable.load(await openJournal(join(dir, 'none.jsonl')))).size).toBe(0);
  });
});
