import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CursorFileError, isCursor, readCursor, writeCursor } from '../../src/store/index.js';
import { tempDirFixture } from '../helpers/temp-dir.js';

let file: string;
tempDirFixture('pubky-cursor-', (dir) => {
  file = join(dir, 'state', 'cursor');
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

  it.each([['abc'], [''], ['-1'], ['1.5'], [' 7'], ['18446744073709551616'], ['12abc'], ['0x10']])(
    'a corrupt file %j throws an error naming it and is never overwritten',
    async (content) => {
      await writeCursor(file, '1');
      await writeFile(file, content);
      const error = await readCursor(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CursorFileError);
      expect((error as CursorFileError).file).toBe(file);
      expect((error as Error).message).toContain(file);
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

  it('isCursor', () => {
    expect(isCursor('0')).toBe(true);
    expect(isCursor('18446744073709551615')).toBe(true);
    expect(isCursor('18446744073709551616')).toBe(false);
    expect(isCursor('')).toBe(false);
  });
});
