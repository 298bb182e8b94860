import { existsSync, statSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupLocation, finishBackupMove, moveBackup } from '../../src/store/backup-location.js';

const KEY = 'o1gg96ewuojmopcjbz8895478wdtxtzzuxnfjjz8o8e77csa1ngo';
/** Another file system than /tmp when the machine has one (tmpfs): moves there are copies. */
const OTHER_FS =
  existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev ? '/dev/shm' : undefined;

let dataDir: string;
let elsewhere: string;
const old = new Date('2020-01-02T03:04:05Z');

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pubky-move-'));
  elsewhere = await mkdtemp(join(OTHER_FS ?? tmpdir(), 'pubky-move-target-'));
  const keyDir = join(dataDir, 'keys', KEY);
  await mkdir(join(keyDir, 'data/pub/app'), { recursive: true });
  await mkdir(join(keyDir, 'state'), { recursive: true });
  for (let i = 0; i < 40; i++)
    await writeFile(join(keyDir, `data/pub/app/${i}.txt`), `file ${i} `.repeat(i * 50));
  await writeFile(join(keyDir, 'state/cursor'), '42');
  await utimes(join(keyDir, 'data/pub/app/7.txt'), old, old);
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await rm(elsewhere, { recursive: true, force: true });
});

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (folder: string, prefix: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(folder, entry.name), `${prefix}${entry.name}/`);
      else out[`${prefix}${entry.name}`] = await readFile(join(folder, entry.name), 'utf8');
    }
  };
  await walk(dir, '');
  return out;
}

describe('moving the backup', () => {
  it.skipIf(!OTHER_FS)(
    'to another disk: copied with the same bytes and mtimes, keys/ becomes a link, the old copy removed',
    async () => {
      const before = await tree(join(dataDir, 'keys'));
      const target = join(elsewhere, 'backup');
      const seen: number[] = [];
      const moved = await moveBackup(dataDir, target, { onProgress: (p) => seen.push(p.files) });
      expect(moved).toMatchObject({ renamed: false, files: 41, to: target });
      expect(seen.at(-1)).toBe(41);
      expect(await tree(target)).toEqual(before);
      expect((await lstat(join(dataDir, 'keys'))).isSymbolicLink()).toBe(true);
      expect(await tree(join(dataDir, 'keys'))).toEqual(before);
      expect((await stat(join(target, KEY, 'data/pub/app/7.txt'))).mtime.getTime()).toBe(old.getTime());
      expect(existsSync(join(dataDir, 'keys.old'))).toBe(false);
      expect(existsSync(join(dataDir, 'backup-move.json'))).toBe(false);
      expect(await backupLocation(dataDir)).toEqual({ path: await realpath(target), moved: true });
    },
  );

  it('on the same disk: one rename; then moved again and back home', async () => {
    const before = await tree(join(dataDir, 'keys'));
    const first = join(dataDir, '..', `${dataDir.split('/').at(-1)}-a`);
    try {
      expect(await moveBackup(dataDir, first)).toMatchObject({ renamed: true, files: 41 });
      expect(await tree(join(dataDir, 'keys'))).toEqual(before);
      // The key's write lock, held during the move and moved with the rename, was released there.
      expect(existsSync(join(first, KEY, 'state/write.lock'))).toBe(false);
      const second = `${first}-b`; // same disk again: the link's folder renamed
      await moveBackup(dataDir, second);
      expect(existsSync(first)).toBe(false);
      expect(existsSync(join(second, KEY, 'state/write.lock'))).toBe(false);
      expect(await tree(join(dataDir, 'keys'))).toEqual(before);
      const home = await moveBackup(dataDir, join(dataDir, 'keys'));
      expect(home.to).toBe(join(dataDir, 'keys'));
      expect((await lstat(join(dataDir, 'keys'))).isDirectory()).toBe(true);
      expect(await tree(join(dataDir, 'keys'))).toEqual(before);
      expect(existsSync(second)).toBe(false);
      expect(await backupLocation(dataDir)).toEqual({ path: join(dataDir, 'keys'), moved: false });
    } finally {
      await rm(first, { recursive: true, force: true });
      await rm(`${first}-b`, { recursive: true, force: true });
    }
  });

  it('refuses a folder that is not empty, one inside the backup, and the place it already is; nothing changes', async () => {
    const before = await tree(join(dataDir, 'keys'));
    await writeFile(join(elsewhere, 'someone-else.txt'), 'mine');
    await expect(moveBackup(dataDir, elsewhere)).rejects.toMatchObject({ code: 'TARGET_NOT_EMPTY' });
    await expect(moveBackup(dataDir, join(dataDir, 'keys', KEY, 'x'))).rejects.toMatchObject({
      code: 'TARGET_INSIDE_BACKUP',
    });
    await expect(moveBackup(dataDir, join(dataDir, 'keys'))).rejects.toMatchObject({ code: 'SAME_LOCATION' });
    expect(await tree(join(dataDir, 'keys'))).toEqual(before);
    expect(await readFile(join(elsewhere, 'someone-else.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(dataDir, 'backup-move.json'))).toBe(false);
  });

  it.skipIf(!OTHER_FS)(
    'stopped halfway: the partial copy is removed, the backup stays where it was',
    async () => {
      const before = await tree(join(dataDir, 'keys'));
      const target = join(elsewhere, 'backup');
      const stop = new AbortController();
      await expect(
        moveBackup(dataDir, target, {
          signal: stop.signal,
          onProgress: (p) => p.files === 10 && stop.abort(),
        }),
      ).rejects.toThrow();
      expect(await readdir(target)).toEqual([]);
      expect((await lstat(join(dataDir, 'keys'))).isDirectory()).toBe(true);
      expect(await tree(join(dataDir, 'keys'))).toEqual(before);
      expect(existsSync(join(dataDir, 'backup-move.json'))).toBe(false);
      // The key's write lock was given back: a new move works.
      expect(await moveBackup(dataDir, target)).toMatchObject({ files: 41 });
    },
  );

  it('a crash during the copy: the next open removes the partial copy and keeps the backup', async () => {
    const before = await tree(join(dataDir, 'keys'));
    const target = join(elsewhere, 'backup');
    await mkdir(join(target, KEY, 'data'), { recursive: true });
    await writeFile(join(target, KEY, 'data', 'half'), 'x');
    await writeFile(
      join(dataDir, 'backup-move.json'),
      JSON.stringify({ from: join(dataDir, 'keys'), to: target, target, phase: 'copying', startedAt: '' }),
    );
    await finishBackupMove(dataDir);
    expect(await readdir(target)).toEqual([]);
    expect(await tree(join(dataDir, 'keys'))).toEqual(before);
    expect(existsSync(join(dataDir, 'backup-move.json'))).toBe(false);
  });

  it('a crash after the copy, before or during the switch: the next open finishes it', async () => {
    const before = await tree(join(dataDir, 'keys'));
    const target = join(elsewhere, 'backup');
    // What a crash right after the copy leaves: a full copy, the journal saying so, keys/ untouched.
    await moveBackup(dataDir, target);
    await moveBackup(dataDir, join(dataDir, 'keys'));
    const { cp } = await import('node:fs/promises');
    await cp(join(dataDir, 'keys'), target, { recursive: true, preserveTimestamps: true });
    const journal = { from: join(dataDir, 'keys'), to: target, target, phase: 'copied', startedAt: '' };
    await writeFile(join(dataDir, 'backup-move.json'), JSON.stringify(journal));
    await finishBackupMove(dataDir);
    expect((await lstat(join(dataDir, 'keys'))).isSymbolicLink()).toBe(true);
    expect(await tree(join(dataDir, 'keys'))).toEqual(before);
    expect(existsSync(join(dataDir, 'keys.old'))).toBe(false);
    expect(existsSync(join(dataDir, 'backup-move.json'))).toBe(false);

    // A crash in the middle of the switch: keys/ set aside as keys.old, no keys yet.
    await moveBackup(dataDir, join(dataDir, 'keys'));
    await cp(join(dataDir, 'keys'), target, { recursive: true, preserveTimestamps: true });
    const { rename } = await import('node:fs/promises');
    await rename(join(dataDir, 'keys'), join(dataDir, 'keys.old'));
    await writeFile(join(dataDir, 'backup-move.json'), JSON.stringify(journal));
    await finishBackupMove(dataDir);
    expect(await tree(join(dataDir, 'keys'))).toEqual(before);
    expect(existsSync(join(dataDir, 'keys.old'))).toBe(false);
  });

  it('an unreadable journal is reported, never guessed at', async () => {
    await writeFile(join(dataDir, 'backup-move.json'), '{"from": 1');
    await expect(finishBackupMove(dataDir)).rejects.toMatchObject({ code: 'MOVE_UNFINISHED' });
    expect(existsSync(join(dataDir, 'keys', KEY, 'state/cursor'))).toBe(true);
  });
});
