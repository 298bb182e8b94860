import type { Command } from 'commander';
import { listKeys } from '../../store/index.js';
import type { CliContext } from '../context.js';
import { formatBytes, summarizeKey } from '../key-summary.js';

export function registerList(program: Command, context: CliContext): void {
  program
    .command('list')
    .description('list the backed-up pubkys')
    .action(async () => {
      const dataDir = context.dataDir();
      const keys = await Promise.all((await listKeys(dataDir)).map((pubky) => summarizeKey(dataDir, pubky)));
      const lines = keys.map(
        (k) =>
          `${k.pubky}  ${stateOf(k).padEnd(7)}  ${String(k.files).padStart(6)} files  ` +
          `${formatBytes(k.bytes).padStart(9)}  ${k.homeserver ?? '(homeserver not resolved yet)'}`,
      );
      context
        .output()
        .result(
          { keys },
          keys.length === 0 ? 'no pubkys yet: add one with `pubky-backup add <pubky>`' : lines.join('\n'),
        );
    });
}

/** One word for a key's state, from its files alone (no network). */
function stateOf(key: Awaited<ReturnType<typeof summarizeKey>>): string {
  if (!key.active) return 'removed';
  if (key.paused) return 'paused';
  if (key.lastRun?.outcome === 'waiting') return 'waiting';
  if (key.lastRun?.outcome === 'error') return 'error';
  return 'active';
}
