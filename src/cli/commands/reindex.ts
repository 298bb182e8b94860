import type { Command } from 'commander';
import { BackupStore, readCursor, rebuildIndex } from '../../store/index.js';
import { acquireInstanceLock } from '../../util/instance-lock.js';
import type { CliContext } from '../context.js';
import { requireAddedKey } from '../keys.js';

export function registerReindex(program: Command, context: CliContext): void {
  program
    .command('reindex')
    .description('rebuild a backup’s file index (sizes, BLAKE3 hashes) from the files on disk')
    .argument('<pubky>', 'an added pubky')
    .action(async (text: string) => {
      const dataDir = context.dataDir();
      const layout = requireAddedKey(dataDir, text);
      const lock = await acquireInstanceLock(dataDir, 'reindex');
      try {
        const cursor = await readCursor(layout.cursorFile);
        const index = await rebuildIndex(BackupStore.openFs(layout.keyDir), layout.indexFile, { cursor });
        let bytes = 0;
        for (const entry of index.entries()) bytes += entry.size;
        context
          .output()
          .result(
            { pubky: layout.z32, files: index.size, bytes },
            `reindexed ${layout.z32}: ${index.size} files, ${bytes} bytes`,
          );
      } finally {
        await lock.release();
      }
    });
}
