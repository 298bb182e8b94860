import type { Command } from 'commander';
import { formatBytes } from '../../app/index.js';
import { type LiveSummary, withBackend } from '../backend.js';
import type { CliContext } from '../context.js';

export function registerList(program: Command, context: CliContext): void {
  program
    .command('list')
    .description('list the backed-up pubkys')
    .action(async () => {
      const keys = await withBackend(context, 'list', (backend) => backend.list());
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

/** One word for a key's state: the running service's, else from its files. */
export function stateOf(key: LiveSummary): string {
  if (!key.active) return 'removed';
  if (key.paused) return 'paused';
  if (key.error) return 'damaged';
  if (key.live && key.live.state !== 'starting') return key.live.state;
  if (key.lastRun?.outcome === 'waiting') return 'waiting';
  if (key.lastRun?.outcome === 'error') return 'error';
  return 'active';
}
