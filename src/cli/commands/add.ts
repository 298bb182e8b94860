import type { Command } from 'commander';
import { addKey } from '../add-key.js';
import type { CliContext } from '../context.js';
import { openResolver } from '../pkdns-setup.js';

export function registerAdd(program: Command, context: CliContext): void {
  program
    .command('add')
    .description('start backing up a pubky (checks it and its homeserver before writing anything)')
    .argument('<pubky>', 'the pubky, in any pasted form')
    .option('--homeserver <url|pubky>', 'use this homeserver instead of looking it up (pins it)')
    .action(async (text: string, options: { homeserver?: string }) => {
      const dataDir = context.dataDir();
      let pkdns: Awaited<ReturnType<typeof openResolver>> | undefined;
      const resolver = async () => {
        pkdns ??= await openResolver(context.pkdnsFlags(), dataDir);
        return pkdns.resolver;
      };
      const added = await addKey(dataDir, text, resolver, options.homeserver).finally(() => pkdns?.close());
      const warning = added.knownToHomeserver
        ? ''
        : `\nnote: ${added.homeserver} does not know ${added.pubky} yet; the backup waits and starts when it does.`;
      const dropped = added.droppedFromUrl
        ? `\nnote: using the homeserver's base address; "${added.droppedFromUrl}" was dropped from the one given.`
        : '';
      context
        .output()
        .result(
          { ...added },
          `added ${added.pubky}\n  homeserver ${added.homeserver} (${added.source})\n  folder     ${added.folder}${dropped}${warning}\n` +
            'run `pubky-backup sync --once` to back it up now.',
        );
    });
}
