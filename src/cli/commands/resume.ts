import type { Command } from 'commander';
import { acceptDeletes } from '../../sync/index.js';
import type { CliContext } from '../context.js';
import { requireAddedKey } from '../keys.js';
import { CliError } from '../output.js';

export function registerResume(program: Command, context: CliContext): void {
  program
    .command('resume')
    .description('resume a key paused by a mass delete on its homeserver')
    .argument('<pubky>', 'the paused pubky')
    .requiredOption('--accept-deletes', 'apply the deletes (previous versions stay in versions/)')
    .action(async (text: string) => {
      const layout = requireAddedKey(context.dataDir(), text);
      const paused = await acceptDeletes(layout);
      if (!paused) throw new CliError('NOT_PAUSED', `${layout.z32} is not paused.`);
      context
        .output()
        .result(
          { pubky: layout.z32, accepted: true, deletes: paused.deletes },
          `${paused.deletes} deletes accepted for ${layout.z32}; the next sync applies them (old versions stay in versions/).`,
        );
    });
}
