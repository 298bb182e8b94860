import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFdWriter } from '../../src/store/fd-writer.js';

describe('openFdWriter', () => {
  it('writes gathered chunks in order, small and large files alike, and reports the mtime', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-fd-writer-'));
    for (const total of [0, 5, 70_000, 3 * 1024 * 1024 + 5]) {
      const file = join(dir, `f-${total}`);
      const expected = Buffer.alloc(total);
      for (let i = 0; i < total; i++) expected[i] = (i * 7) & 0xff;
      const writer = await openFdWriter(file);
      for (let at = 0; at < total; at += 50_000) await writer.write(expected.subarray(at, at + 50_000));
      const { mtimeMs } = await writer.close();
      expect((await readFile(file)).equals(expected)).toBe(true);
      expect(mtimeMs).toBe((await stat(file)).mtimeMs);
    }
  });

  it('refuses an existing file, and cancel closes without writing what was gathered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-fd-writer-'));
    const taken = join(dir, 'taken');
    await writeFile(taken, 'x');
    await expect(openFdWriter(taken)).rejects.toMatchObject({ code: 'EEXIST' });
    const file = join(dir, 'cancelled');
    const writer = await openFdWriter(file);
    await writer.write(Buffer.from('never written'));
    await writer.cancel();
    expect((await stat(file)).size).toBe(0);
  });
});
