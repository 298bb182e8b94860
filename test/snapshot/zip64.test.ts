import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import { checkSnapshot, createSnapshot } from '../../src/snapshot/index.js';
import { BackupStore, FileIndex, KeyLayout } from '../../src/store/index.js';
import { blake3Base64 } from '../helpers/homeserver.js';

describe('ZIP64', () => {
  it('a snapshot with more than 65,535 entries is valid for unzip and passes check', {
    timeout: 300_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-zip64-'));
    const layout = new KeyLayout(dataDir, Keypair.random().publicKey.z32);
    const count = 65_600;
    for (let dir = 0; dir < count / 400; dir++) {
      const folder = join(layout.keyDir, 'data/pub/many', String(dir));
      await mkdir(folder, { recursive: true });
      await Promise.all(
        Array.from({ length: 400 }, (_, i) => writeFile(join(folder, `${i}.txt`), `${dir}/${i}`)),
      );
    }
    await mkdir(layout.stateDir, { recursive: true });
    const store = BackupStore.openFs(layout.keyDir);
    // The index the sync would have written (hashed in memory: reading 65,600 files back is slow).
    const index = await FileIndex.open(layout.indexFile);
    for (let dir = 0; dir < count / 400; dir++) {
      for (let i = 0; i < 400; i++) {
        const content = `${dir}/${i}`;
        index.set({
          path: `/pub/many/${dir}/${i}.txt`,
          size: content.length,
          blake3: await blake3Base64(content),
          cursor: '0',
        });
      }
    }
    await index.flush();
    const created = await createSnapshot({
      layout,
      store,
      homeserver: null,
      tool: 'test',
    });
    expect(created.files).toBe(count);
    // zipinfo's summary line counts the entries from the ZIP64 end record.
    const summary = execFileSync('zipinfo', ['-t', created.file], { encoding: 'utf8' });
    expect(summary).toMatch(new RegExp(`^${count + 1} files`));
    const report = await checkSnapshot(created.file);
    expect(report.entries).toBe(count);
    expect(report.problems).toEqual([]);
  });
});
