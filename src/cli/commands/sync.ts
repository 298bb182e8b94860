import type { Command } from 'commander';
import { BackupService, formatBytes, type SyncOutcome } from '../../app/index.js';
import { DaemonClient } from '../../daemon/client.js';
import type { SyncReport, SyncStatus } from '../../sync/index.js';
import { WAITING_REASON } from '../../sync/index.js';
import { withBackend } from '../backend.js';
import type { CliContext } from '../context.js';
import { INTERRUPTED_EXIT_CODE, interruptSignal } from '../interrupt.js';
import { ExitCode } from '../output.js';
import { createSyncProgress } from '../sync-progress.js';

export function registerSync(program: Command, context: CliContext): void {
  program
    .command('sync')
    .description('back up the added pubkys: continuously (live + every 30 s), or once with --once')
    .argument('[pubky...]', 'only these pubkys (default: all added)')
    .option('--once', "catch up to each feed's head, retry due failures, then exit")
    .action(async (texts: string[], options: { once?: boolean }) => {
      if (options.once) await syncOnce(context, texts);
      else await runContinuously(context);
    });
}

async function syncOnce(context: CliContext, texts: string[]): Promise<void> {
  const output = context.output();
  const signal = interruptSignal();
  const results = await withBackend(context, 'sync --once', async (backend) => {
    const progress = output.json || !backend.service ? undefined : createSyncProgress(backend.service.events);
    try {
      return (await backend.syncNow(texts, signal)) as Array<SyncOutcome | Record<string, unknown>>;
    } finally {
      progress?.stop();
    }
  });
  if (signal.aborted) return reportInterrupted(output.json, results);
  const described = results.map((r) => describeResult(r as SyncOutcome));
  const errors = results.filter((r) => 'error' in r).length;
  const partial = results.some(
    (r) => !('error' in r) && (((r as SyncReport).pendingRetries ?? 0) > 0 || (r as SyncReport).paused),
  );
  const code = errors > 0 ? ExitCode.error : partial ? ExitCode.partial : ExitCode.ok;
  output.result({ keys: described.map((k) => k.data) }, described.map((k) => k.human).join('\n'), code);
}

function reportInterrupted(json: boolean, results: Array<SyncOutcome | Record<string, unknown>>): void {
  const keys = results.map((r) => {
    const report = r as {
      pubky: string;
      stored?: number;
      cursor?: string;
      progress?: { done: number; total: number };
    };
    return {
      pubky: report.pubky,
      downloaded: report.stored ?? 0,
      cursor: report.cursor ?? null,
      changesDone: report.progress?.done ?? 0,
      changesKnown: report.progress?.total ?? 0,
    };
  });
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, interrupted: true, keys })}\n`);
  const lines = keys.map(
    (k) =>
      `${k.pubky}  ${k.downloaded} files downloaded before the stop; ${k.changesDone} of ${k.changesKnown} changes seen so far done, ` +
      `${k.changesKnown - k.changesDone} left in the current batch (more may follow); cursor ${k.cursor ?? '?'}`,
  );
  process.stderr.write(
    `interrupted:\n${lines.join('\n')}\nrun \`pubky-backup sync --once\` again to continue; what is on disk is not downloaded again.\n`,
  );
  process.exitCode = INTERRUPTED_EXIT_CODE;
}

/** One line per pubky for people, and its data for --json. */
export function describeResult(result: SyncOutcome | Record<string, unknown>): {
  data: Record<string, unknown>;
  human: string;
} {
  if ('error' in result) {
    const error = result.error as { code?: string; message: string; toJSON?: () => unknown };
    const data = error.toJSON ? error.toJSON() : error;
    return { data: { pubky: result.pubky, error: data }, human: `${result.pubky}  error: ${error.message}` };
  }
  const r = result as SyncReport;
  if (r.waiting) return { data: { ...r }, human: `${r.pubky}  waiting: ${WAITING_REASON}` };
  const parts = [`${r.stored} downloaded (${formatBytes(r.bytes)})`, `${r.deleted} deleted`];
  if (r.unchanged) parts.push(`${r.unchanged} unchanged`);
  if (r.ignored) parts.push(`${r.ignored} unsafe events ignored`);
  if (r.skipped) parts.push(`${r.skipped} unreadable feed entries skipped (see \`pubky-backup status\`)`);
  if (r.feedReset) parts.push("the homeserver's feed had been reset: reconciled by listing");
  if (r.pendingRetries) parts.push(`${r.pendingRetries} failing (will retry; see \`pubky-backup status\`)`);
  if (r.repaired)
    parts.push(`${r.repaired} damaged on this disk, fetched again (damaged copies in versions/)`);
  if (r.paused) parts.push('PAUSED (see `pubky-backup status`)');
  return { data: { ...r }, human: `${r.pubky}  ${parts.join(', ')}, cursor ${r.cursor}` };
}

/** `sync` without --once: the service in the foreground, one line per change, until Ctrl-C. */
async function runContinuously(context: CliContext): Promise<void> {
  const client = await DaemonClient.connect(context.dataDir());
  if (client) {
    process.stderr.write(
      `the daemon (pid ${client.info.pid}) already keeps this data folder in sync; see \`pubky-backup status\`.\n`,
    );
    return;
  }
  const json = context.output().json;
  const service = await BackupService.open({
    dataDir: context.dataDir(),
    pkdns: context.pkdnsFlags(),
    command: 'sync',
    tool: context.tool(),
  });
  const stop = () => void service.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  service.events.subscribe((event) => {
    const { pubky, ...data } = event.data as { pubky?: string } & Record<string, unknown>;
    if (event.type === 'SyncFinished') {
      const report = event.data as unknown as SyncReport;
      if (!(report.stored || report.deleted || report.repaired || report.skipped || report.feedReset)) return;
      process.stdout.write(
        `${json ? JSON.stringify(event) : `${event.time}  ${describeResult(report).human}`}\n`,
      );
    } else if (event.type === 'StateChanged') {
      process.stdout.write(
        `${json ? JSON.stringify(event) : `${event.time}  ${pubky}  ${describeStatus(data as SyncStatus)}`}\n`,
      );
    } else if (event.type === 'SnapshotCreated' || event.type === 'SyncFailed') {
      process.stdout.write(
        `${json ? JSON.stringify(event) : `${event.time}  ${pubky}  ${event.type}: ${JSON.stringify(data)}`}\n`,
      );
    }
  });
  if (!json) process.stderr.write('syncing; press Ctrl-C to stop\n');
  await service.run();
  await service.close();
}

function describeStatus(status: SyncStatus): string {
  switch (status.state) {
    case 'idle':
      return `up to date${status.failed ? `, ${status.failed} failing` : ''}`;
    case 'paused':
      return `PAUSED: ${status.reason}`;
    case 'error':
      return `error: ${status.message}`;
    case 'waiting':
      return `waiting: ${status.reason}`;
    default:
      return status.state;
  }
}
