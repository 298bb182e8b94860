import { rm, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { requireAddedKey } from '../keys.js';

export function registerRemove(program: Command, context: CliContext): void {
  program
    .command('remove')
    .description('stop backing up a pubky; its backup stays on disk unless --delete-data')
    .argument('<pubky>', 'an added pubky')
    .option('--delete-data', 'also delete the backup folder (files, versions, snapshots) for good')
    .action(async (text: string, options: { deleteData?: boolean }) => {
      const layout = requireAddedKey(context.dataDir(), text);
      if (options.deleteData) {
        await rm(layout.keyDir, { recursive: true, force: true });
      } else {
        await writeFile(layout.inactiveMarker, `${new Date().toISOString()}\n`);
      }
      const what = options.deleteData ? `deleted ${layout.keyDir}` : `data kept in ${layout.keyDir}`;
      context
        .output()
        .result(
          { pubky: layout.z32, deletedData: options.deleteData === true, folder: layout.keyDir },
          `removed ${layout.z32} (${what})`,
        );
    });
}
