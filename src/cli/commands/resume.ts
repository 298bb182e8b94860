import type { Command } from 'commander';
import { BackupService } from '../../app/index.js';
import { DaemonClient } from '../../daemon/client.js';
import type { CliContext } from '../context.js';

/** `pause` and `resume`: through the daemon when one runs, else on the data folder directly. */
export function registerPauseResume(program: Command, context: CliContext): void {
  program
    .command('pause')
    .description('pause the backup of a pubky until `resume` (a running sync stops, keeping its work)')
    .argument('<pubky>', 'an added pubky')
    .action(async (text: string) => {
      const result = await onService(
        context,
        'pause',
        (s) => s.pause(text),
        (c) => c.request('POST', `/keys/${encodeURIComponent(text)}/pause`),
      );
      context.output().result({ ...(result as object) }, `paused ${(result as { pubky: string }).pubky}`);
    });

  program
    .command('resume')
    .description('resume a paused pubky (one paused by a mass delete needs --accept-deletes)')
    .argument('<pubky>', 'the paused pubky')
    .option('--accept-deletes', 'apply the deletes that paused it (previous versions stay in versions/)')
    .action(async (text: string, options: { acceptDeletes?: boolean }) => {
      const acceptDeletes = options.acceptDeletes === true;
      const result = (await onService(
        context,
        'resume',
        (s) => s.resume(text, { acceptDeletes }),
        (c) => c.request('POST', `/keys/${encodeURIComponent(text)}/resume`, { acceptDeletes }),
      )) as { pubky: string; deletesAccepted: number };
      context
        .output()
        .result(
          { ...result },
          result.deletesAccepted > 0
            ? `${result.deletesAccepted} deletes accepted for ${result.pubky}; the next sync applies them (old versions stay in versions/).`
            : `resumed ${result.pubky}`,
        );
    });
}

async function onService<T>(
  context: CliContext,
  command: string,
  local: (service: BackupService) => Promise<T>,
  remote: (client: DaemonClient) => Promise<unknown>,
): Promise<unknown> {
  const client = await DaemonClient.connect(context.dataDir());
  if (client) return remote(client);
  const service = await BackupService.open({
    dataDir: context.dataDir(),
    pkdns: context.pkdnsFlags(),
    command,
    tool: context.tool(),
  });
  try {
    return await local(service);
  } finally {
    await service.close();
  }
}
