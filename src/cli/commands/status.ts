import type { Command } from 'commander';
import { formatBytes } from '../../app/index.js';
import { pausedReason, WAITING_REASON } from '../../sync/index.js';
import type { VerifySummary } from '../../verify/index.js';
import { type LiveSummary, withBackend } from '../backend.js';
import type { CliContext } from '../context.js';
import { stateOf } from './list.js';

export function registerStatus(program: Command, context: CliContext): void {
  program
    .command('status')
    .description('show the state of each backup: files, cursor, failures, pause, recent activity')
    .argument('[pubky...]', 'only these pubkys')
    .action(async (texts: string[]) => {
      const keys = await withBackend(context, 'status', async (backend) =>
        texts.length > 0
          ? Promise.all(texts.map((text) => backend.status(text)))
          : Promise.all((await backend.list()).map((k) => backend.status(k.pubky))),
      );
      const human = keys.map(describe).join('\n\n');
      context.output().result({ keys }, human || 'no pubkys yet: add one with `pubky-backup add <pubky>`');
    });
}

function describe(k: LiveSummary): string {
  const resume =
    k.paused?.reason === 'mass-delete'
      ? `pubky-backup resume ${k.pubky} --accept-deletes`
      : `pubky-backup resume ${k.pubky}`;
  return [
    `${k.pubky}  ${stateOf(k)}`,
    `  homeserver  ${k.homeserver ?? 'not resolved yet'}${k.pinned ? ' (pinned)' : ''}`,
    `  files       ${k.files} (${formatBytes(k.bytes)}), cursor ${k.cursor}`,
    k.error ? `  DAMAGED     ${k.error.message}` : undefined,
    k.paused ? `  PAUSED      ${pausedReason(k.paused)} (run \`${resume}\`)` : undefined,
    k.lastRun?.outcome === 'waiting' ? `  waiting     ${WAITING_REASON}` : undefined,
    k.lastRun?.error
      ? `  error       ${k.lastRun.error.message} (since ${k.lastRun.error.since})`
      : undefined,
    k.lastRun?.skipped
      ? `  skipped     ${k.lastRun.skipped} unreadable feed entries in the last run (see the activity below)`
      : undefined,
    k.lastVerify ? `  verified    ${describeVerify(k.lastVerify)}` : undefined,
    k.pendingRetries.length > 0
      ? `  failing     ${k.pendingRetries.length} files waiting for retry, e.g. ${k.pendingRetries[0]?.path}: ${k.pendingRetries[0]?.lastError}`
      : undefined,
    ...k.recentActivity.map((a) => `  ${a.timestamp}  ${a.type}: ${a.message}`),
  ]
    .filter(Boolean)
    .join('\n');
}

/** The last `verify` in one line: when, against which homeserver, the outcome and its counts. */
function describeVerify(v: VerifySummary): string {
  const c = v.counts;
  const outcome =
    v.outcome === 'identical'
      ? `identical (${c.identical} files${v.readData ? ', every byte read' : ''})`
      : `DIFFERENCES: ${c.missing} missing, ${c.changed} changed, ${c.notBackedUp} not backed up, ${c.unverifiable} unverifiable`;
  return `${v.checkedAt} against ${v.homeserver}: ${outcome}${v.cursorBehind ? ' (the backup was behind the feed)' : ''}`;
}
