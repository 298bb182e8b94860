import type { Command } from 'commander';
import { BackupStore, readCursor, rebuildIndex } from '../../store/index.js';
import { acquireInstanceLock } from '../../util/instance-lock.js';
import type { CliContext } from '../context.js';
import { requireAddedKey } from '../keys.js';
import { ExitCode } from '../output.js';

export function registerReindex(program: Command, context: CliContext): void {
  program
    .command('reindex')
    .description('rebuild a backup’s file index (sizes, BLAKE3 hashes) from the files on disk')
    .argument('<pubky>', 'an added pubky')
    .option(
      '--accept',
      'adopt files whose bytes differ from the index, and forget indexed files that are gone',
    )
    .action(async (text: string, options: { accept?: boolean }) => {
      const dataDir = context.dataDir();
      const layout = requireAddedKey(dataDir, text);
      const lock = await acquireInstanceLock(dataDir, 'reindex');
      try {
        const cursor = await readCursor(layout.cursorFile);
        const { index, differences } = await rebuildIndex(
          BackupStore.openFs(layout.keyDir),
          layout.indexFile,
          {
            cursor,
            accept: options.accept,
          },
        );
        let bytes = 0;
        for (const entry of index.entries()) bytes += entry.size;
        const disputed = differences.filter((d) => d.change !== 'added');
        const lines = [
          `reindexed ${layout.z32}: ${index.size} files, ${bytes} bytes` +
            (differences.length > 0
              ? `; ${differences.filter((d) => d.change === 'added').length} added`
              : ''),
          ...disputed.map(
            (d) =>
              `  ${d.change}: ${d.path}` +
              (d.change === 'changed' ? ` (${d.before?.size} → ${d.after?.size} bytes, other BLAKE3)` : ''),
          ),
        ];
        if (disputed.length > 0) {
          lines.push(
            options.accept
              ? `${disputed.length} differences adopted into the index.`
              : `${disputed.length} differences NOT adopted (the index keeps what was backed up; the next sync fetches those files again). ` +
                  'Run with --accept to adopt the files on disk as they are.',
          );
        }
        context
          .output()
          .result(
            { pubky: layout.z32, files: index.size, bytes, differences, accepted: options.accept === true },
            lines.join('\n'),
            disputed.length > 0 && !options.accept ? ExitCode.partial : ExitCode.ok,
          );
      } finally {
        await lock.release();
      }
    });
}
