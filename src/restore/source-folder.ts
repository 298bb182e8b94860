import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DATA_PREFIX, homeserverPathOf } from '../store/index.js';
import { RestoreError } from './errors.js';
import type { RestoreSource, SourceFile } from './source.js';

/**
 * A folder laid out like the backup's `data/` (`<dir>/pub/…`: `snapshot extract` output, a copy
 * of a mirror; `<dir>/data/pub/…`, a key folder, works too) as a restore source. Names are read
 * back with the store's mapping (`homeserverPathOf`: escapes, `%2E`, long names cut with `%2F`).
 * A folder vouches for no hash: its bytes are uploaded as they are.
 */
export async function openFolderSource(dir: string): Promise<RestoreSource> {
  const root = existsSync(join(dir, 'pub')) ? dir : join(dir, DATA_PREFIX);
  if (!existsSync(join(root, 'pub'))) {
    throw new RestoreError(
      'BAD_SOURCE',
      `${dir} is not laid out like a backup: it has no pub/ folder (expected <dir>/pub/… as \`snapshot extract\` writes).`,
    );
  }
  const files: SourceFile[] = [];
  const unusable: RestoreSource['unusable'] = [];
  for (const entry of await readdir(join(root, 'pub'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const rel = relative(root, full).split(sep).join('/');
    if (rel.split('/').some((segment) => segment.startsWith('.pubky-backup-'))) continue; // our temp folders
    let path: string;
    try {
      path = homeserverPathOf(`${DATA_PREFIX}/${rel}`);
    } catch (error) {
      unusable.push({ path: `/${rel}`, reason: (error as Error).message });
      continue;
    }
    const { size } = await stat(full);
    files.push({
      path,
      size,
      read: () => createReadStream(full, { highWaterMark: 256 * 1024 }),
      readWhole: () => readFile(full),
    });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { kind: 'folder', location: root, files, unusable, notes: [], close: async () => {} };
}
