import type { Command } from 'commander';
import { withBackend } from '../backend.js';
import type { CliContext } from '../context.js';

export function registerAdd(program: Command, context: CliContext): void {
  program
    .command('add')
    .description('start backing up a pubky (checks it and its homeserver before writing anything)')
    .argument('<pubky>', 'the pubky, in any pasted form')
    .option('--homeserver <url|pubky>', 'use this homeserver instead of looking it up (pins it)')
    .action(async (text: string, options: { homeserver?: string }) => {
      const added = await withBackend(context, 'add', (backend) => backend.add(text, options.homeserver));
      const notes = [
        added.droppedFromUrl
          ? `note: using the homeserver's base address; "${added.droppedFromUrl}" was dropped from the one given.`
          : '',
        added.knownToHomeserver
          ? ''
          : `note: ${added.homeserver} does not know ${added.pubky} yet; the backup waits and starts when it does.`,
      ].filter(Boolean);
      context
        .output()
        .result(
          { ...added },
          [
            `added ${added.pubky}`,
            `  homeserver ${added.homeserver} (${added.source})`,
            `  folder     ${added.folder}`,
            ...notes,
            'run `pubky-backup sync --once` to back it up now (a running daemon starts at once).',
          ].join('\n'),
        );
    });
}
