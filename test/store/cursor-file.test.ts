import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCursor, readCursorState, writeCursor } from '../../src/store/index.js';
import { tempDirFixture } from '../helpers/temp-dir.js';

let file: string;
tempDirFixture('pubky-cursor-', async (dir) => {
  file = join(dir, 'state', 'cursor');
  await mkdir(dirname(file), { recursive: true });
});

describe('cursor file', () => {
  it('is 0 when missing', async () => {
    expect(await readCursor(file)).toBe('0');
  });

  it('round-trips, creating the state folder, up to u64 max', async () => {
    await writeCursor(file, '1234');
    expect(await readFile(file, 'utf8')).toBe('1234');
    expect(await readCursor(file)).toBe('1234');
    await writeCursor(file, '18446744073709551615');
    expect(await readCursor(file)).toBe('18446744073709551615');
  });

  it('tolerates a trailing newline or spaces (as another tool may write it)', async () => {
    await writeCursor(file, '1');
    await writeFile(file, '42\n');
    expect(await readCursor(file)).toBe('42');
    await writeFile(file, '43 \r\n');
    expect(await readCursor(file)).toBe('43');
  });

  it.each([[''], ['\n'], ['  \r\n']])(
    'empty or blank %j is the beginning of the feed, silently',
    async (content) => {
      await writeFile(file, content);
      expect(await readCursorState(file)).toEqual({ cursor: '0' });
    },
  );

  it('a timestamp cursor (homeservers before v0.6) is kept as it is', async () => {
    await writeFile(file, '0033RCZXVEPNG\n');
    expect(await readCursorState(file)).toEqual({ cursor: '0033RCZXVEPNG' });
    await writeCursor(file, '0033RCZXVEPNH');
    expect(await readCursor(file)).toBe('0033RCZXVEPNH');
  });

  // Damage: a full resync from the start, logged.
  it.each([['abc'], ['-1'], ['1.5'], ['18446744073709551616'], ['12abc'], ['0x10']])(
    'an unreadable cursor %j restarts from the beginning with a reason, and is left in place',
    async (content) => {
      await writeFile(file, content);
      const state = await readCursorState(file);
      expect(state.cursor).toBe('0');
      expect(state.problem).toContain(file);
      expect(state.problem).toContain(JSON.stringify(content));
      expect(await readFile(file, 'utf8')).toBe(content);
    },
  );

  it.each([['-1'], ['abc'], [''], ['1e3'], ['18446744073709551616'], [' 1']])(
    'refuses to write %j',
    async (bad) => {
      await expect(writeCursor(file, bad)).rejects.toThrow(RangeError);
      await expect(readFile(file)).rejects.toThrow(/ENOENT/);
    },
  );
});
