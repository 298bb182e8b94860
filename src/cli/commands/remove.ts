import type { Command } from 'commander';
import { withBackend } from '../backend.js';
import type { CliContext } from '../context.js';

export function registerRemove(program: Command, context: CliContext): void {
  program
    .command('remove')
    .description('stop backing up a pubky; its backup stays on disk unless --delete-data')
    .argument('<pubky>', 'an added pubky')
    .option('--delete-data', 'also delete the backup folder (files, versions, snapshots) for good')
    .action(async (text: string, options: { deleteData?: boolean }) => {
      const removed = await withBackend(context, 'remove', (backend) =>
        backend.remove(text, options.deleteData === true),
      );
      const what = removed.dataDeleted ? `deleted ${removed.folder}` : `data kept in ${removed.folder}`;
      context.output().result({ ...removed }, `removed ${removed.pubky} (${what})`);
    });
}
