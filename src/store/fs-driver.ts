import { constants } from 'node:fs';
import { copyFile, link, mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Operator } from 'opendal';
import { fsyncDir } from '../util/atomic-file.js';
import type { StoreDriver } from './driver.js';

/**
 * The local-folder driver. OpenDAL's fs service fsyncs a file when its writer closes, but never a
 * folder after a rename or mkdir, so folders are synced here with node:fs. A version is a hard link
 * (no copy, and the live name never goes missing); where links are not supported it is a copy.
 */
export function fsDriver(keyDir: string): StoreDriver {
  const operator = new Operator('fs', { root: keyDir });
  const abs = (path: string) => (path === '' ? keyDir : join(keyDir, ...path.split('/')));
  return {
    operator,
    syncFile: (path) => syncFile(abs(path)),
    syncDir: (path) => fsyncDir(abs(path)),
    async keepCopy(from, to) {
      await mkdir(dirname(abs(to)), { recursive: true });
      try {
        await link(abs(from), abs(to));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw error;
        await copyFile(abs(from), abs(to), constants.COPYFILE_EXCL);
        await syncFile(abs(to));
      }
    },
  };
}

async function syncFile(file: string): Promise<void> {
  // Opened for writing: Windows refuses to flush a read-only handle.
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
