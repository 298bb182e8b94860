import type { Command } from 'commander';
import { type Config, loadConfig } from '../../config/index.js';
import { removeSnapshotLeftovers, runSnapshotSchedule } from '../../snapshot/index.js';
import { KeyLayout } from '../../store/index.js';
import { SyncManager, type SyncReport, type SyncStatus, WAITING_REASON } from '../../sync/index.js';
import { acquireInstanceLock } from '../../util/instance-lock.js';
import { runVersionRetention } from '../../versions/index.js';
import type { CliContext } from '../context.js';
import { INTERRUPTED_EXIT_CODE, interruptSignal } from '../interrupt.js';
import { formatBytes } from '../key-summary.js';
import { selectKeys } from '../keys.js';
import { CliError, ExitCode } from '../output.js';
import { locateHomeserver, openResolver } from '../pkdns-setup.js';
import { createSyncProgress } from '../sync-progress.js';
import { toolVersion } from '../tool-version.js';

export function registerSync(program: Command, context: CliContext): void {
  program
    .command('sync')
    .description('back up the added pubkys: continuously (live + every 30 s), or once with --once')
    .argument('[pubky...]', 'only these pubkys (default: all added)')
    .option('--once', "catch up to each feed's head, retry due failures, then exit")
    .action(async (texts: string[], options: { once?: boolean }) => {
      const dataDir = context.dataDir();
      const output = context.output();
      const pubkys = await selectKeys(dataDir, texts);
      if (pubkys.length === 0)
        throw new CliError('NO_KEYS', 'No pubkys to back up: add one with `pubky-backup add <pubky>`.');
      const config = await loadConfig(dataDir);
      const lock = await acquireInstanceLock(dataDir, options.once ? 'sync --once' : 'sync');
      let pkdns: Awaited<ReturnType<typeof openResolver>> | undefined;
      try {
        const manager = await SyncManager.open({
          dataDir,
          config,
          pubkys,
          locate: async (pubky) => {
            pkdns ??= await openResolver(context.pkdnsFlags(), dataDir);
            return locateHomeserver(pkdns.resolver, pubky);
          },
        });
        for (const pubky of pubkys) await removeSnapshotLeftovers(new KeyLayout(dataDir, pubky));
        if (options.once) {
          await syncOnce(manager, output.json, (data, human, code) => output.result(data, human, code));
        } else {
          await runContinuously(manager, output.json, dataDir, config);
        }
      } finally {
        await pkdns?.close();
        await lock.release();
      }
    });
}

type Result = SyncReport | { pubky: string; error: Error };

async function syncOnce(
  manager: SyncManager,
  json: boolean,
  print: (data: Record<string, unknown>, human: string, exitCode: number) => void,
): Promise<void> {
  const progress = json ? undefined : createSyncProgress(manager);
  const signal = interruptSignal();
  const results = await manager.syncOnce(signal).finally(() => progress?.stop());
  if (signal.aborted) {
    const keys = results.map((r) => {
      const key = manager.key(r.pubky);
      const progress = key?.runProgress ?? { done: 0, total: 0 };
      return {
        pubky: r.pubky,
        downloaded: 'error' in r ? (key?.runReport?.stored ?? 0) : r.stored,
        cursor: key?.cursor ?? null,
        changesDone: progress.done,
        changesKnown: progress.total,
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
    return;
  }
  const keys = results.map(describeResult);
  const errors = results.filter((r): r is { pubky: string; error: Error } => 'error' in r).length;
  const partial = results.some((r) => !('error' in r) && (r.pendingRetries > 0 || r.paused));
  const code = errors > 0 ? ExitCode.error : partial ? ExitCode.partial : ExitCode.ok;
  print({ keys: keys.map((k) => k.data) }, keys.map((k) => k.human).join('\n'), code);
}

function describeResult(result: Result): { data: Record<string, unknown>; human: string } {
  if ('error' in result) {
    const code = (result.error as { code?: string }).code;
    return {
      data: { pubky: result.pubky, error: { ...(code && { code }), message: result.error.message } },
      human: `${result.pubky}  error: ${result.error.message}`,
    };
  }
  const r = result;
  if (r.waiting) {
    return {
      data: { ...r },
      human: `${r.pubky}  waiting: ${WAITING_REASON}`,
    };
  }
  const parts = [`${r.stored} downloaded (${formatBytes(r.bytes)})`, `${r.deleted} deleted`];
  if (r.unchanged) parts.push(`${r.unchanged} unchanged`);
  if (r.ignored) parts.push(`${r.ignored} unsafe events ignored`);
  if (r.skipped) parts.push(`${r.skipped} unreadable feed entries skipped (see \`pubky-backup status\`)`);
  if (r.feedReset) parts.push("the homeserver's feed had been reset: reconciled by listing");
  if (r.pendingRetries) parts.push(`${r.pendingRetries} failing (will retry; see \`pubky-backup status\`)`);
  if (r.repaired)
    parts.push(`${r.repaired} damaged on this disk, fetched again (damaged copies in versions/)`);
  if (r.paused) parts.push('PAUSED by a mass delete (see `pubky-backup status`)');
  return { data: { ...r }, human: `${r.pubky}  ${parts.join(', ')}, cursor ${r.cursor}` };
}

async function runContinuously(
  manager: SyncManager,
  json: boolean,
  dataDir: string,
  config: Config,
): Promise<void> {
  const controller = new AbortController();
  const versions = runVersionRetention({
    pubkys: () => manager.pubkys,
    prune: async (pubky, keepDays) => manager.key(pubky)?.pruneVersions(keepDays),
    keepDays: config.versions.keepDays,
    signal: controller.signal,
    onError: (pubky, error) =>
      process.stderr.write(`${pubky}  versions retention failed: ${error.message}\n`),
  });
  const snapshots = runSnapshotSchedule({
    dataDir,
    pubkys: () => manager.pubkys,
    config: config.snapshots,
    tool: `pubky-backup ${toolVersion()}`,
    signal: controller.signal,
    onSnapshot: (pubky, file) =>
      process.stdout.write(
        `${json ? JSON.stringify({ pubky, snapshot: file }) : `${new Date().toISOString()}  ${pubky}  snapshot ${file}`}\n`,
      ),
    onError: (pubky, error) => process.stderr.write(`${pubky}  snapshot failed: ${error.message}\n`),
  });
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // What a catch-up changed, one line each; quiet catch-ups print nothing.
  manager.on('report', (report) => {
    if (!(report.stored || report.deleted || report.repaired || report.skipped || report.feedReset)) return;
    const line = json
      ? JSON.stringify(report)
      : `${new Date().toISOString()}  ${describeResult(report).human}`;
    process.stdout.write(`${line}\n`);
  });
  manager.on('status', (pubky, status) => {
    if (status.state === 'syncing') return;
    const line = json
      ? JSON.stringify({ pubky, ...status })
      : `${new Date().toISOString()}  ${pubky}  ${describeStatus(status)}`;
    process.stdout.write(`${line}\n`);
  });
  if (!json) process.stderr.write(`syncing ${manager.pubkys.length} pubky(s); press Ctrl-C to stop\n`);
  await manager.run(controller.signal);
  await snapshots;
  await versions;
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
