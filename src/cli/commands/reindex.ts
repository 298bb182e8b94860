import type { Command } from 'commander';
import { BackupService } from '../../app/index.js';
import type { CliContext } from '../context.js';
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
      const service = await BackupService.open({
        dataDir: context.dataDir(),
        pkdns: context.pkdnsFlags(),
        command: 'reindex',
        tool: context.tool(),
      });
      try {
        const { pubky, files, bytes, differences } = await service.reindex(text, options);
        const disputed = differences.filter((d) => d.change !== 'added');
        const lines = [
          `reindexed ${pubky}: ${files} files, ${bytes} bytes` +
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
            { pubky, files, bytes, differences, accepted: options.accept === true },
            lines.join('\n'),
            disputed.length > 0 && !options.accept ? ExitCode.partial : ExitCode.ok,
          );
      } finally {
        await service.close();
      }
    });
}
