import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatBytes } from '../../app/index.js';
import { withBackend } from '../backend.js';
import type { CliContext } from '../context.js';
import { INTERRUPTED_EXIT_CODE, interruptSignal } from '../interrupt.js';
import { createCountProgress } from '../progress.js';

export function registerMoveBackup(program: Command, context: CliContext): void {
  program
    .command('location')
    .description('print where the backup (the key folders) is')
    .action(async () => {
      const location = await withBackend(context, 'location', (backend) => backend.backupLocation());
      context.output().result({ ...location }, location.path);
    });

  program
    .command('move-backup')
    .description('move the backup to an empty or new folder, on any disk (syncing pauses meanwhile)')
    .argument('<folder>', 'where the key folders go; settings stay in the data folder')
    .action(async (folder: string) => {
      const target = resolve(folder);
      const signal = interruptSignal();
      const progress = context.output().json ? undefined : createCountProgress('moving files');
      try {
        const moved = await withBackend(context, 'move-backup', (backend) =>
          backend.moveBackup(target, (p) => progress?.update(p.files, p.totalFiles), signal),
        );
        progress?.stop();
        context
          .output()
          .result(
            { ...moved },
            `moved ${moved.files} files (${formatBytes(moved.bytes)}) from ${moved.from} to ${moved.to}` +
              (moved.renamed ? ' (same disk: renamed in one step)' : ''),
          );
      } catch (error) {
        progress?.stop();
        if (!signal.aborted) throw error;
        process.stderr.write(
          'interrupted: nothing was moved; the backup is where it was (the partial copy was removed)\n',
        );
        process.exitCode = INTERRUPTED_EXIT_CODE;
      }
    });
}
