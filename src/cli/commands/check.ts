import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { BackupStore, KeyLayout } from '../../store/index.js';
import { SyncManager } from '../../sync/index.js';
import { acquireInstanceLock } from '../../util/instance-lock.js';
import { checkBackup, type LocalCheckReport } from '../../verify/index.js';
import type { CliContext } from '../context.js';
import { INTERRUPTED_EXIT_CODE, interruptSignal } from '../interrupt.js';
import { formatBytes } from '../key-summary.js';
import { selectKeys } from '../keys.js';
import { ExitCode } from '../output.js';
import { locateHomeserver, openResolver } from '../pkdns-setup.js';
import { createCountProgress } from '../progress.js';

export function registerCheck(program: Command, context: CliContext): void {
  program
    .command('check')
    .description('check each backup against itself: files vs index, versions, retry queue, cursor, snapshots')
    .argument('[pubky...]', 'only these pubkys (default: all added)')
    .option(
      '--read-data',
      'read every byte and compare BLAKE3 hashes (default: sizes and modification times)',
    )
    .option(
      '--repair',
      'fetch damaged or missing files again from the homeserver (damaged copies kept in versions/)',
    )
    .action(async (texts: string[], options: { readData?: boolean; repair?: boolean }) => {
      const dataDir = context.dataDir();
      const output = context.output();
      const signal = interruptSignal();
      const pubkys = await selectKeys(dataDir, texts);
      const lock = await acquireInstanceLock(dataDir, options.repair ? 'check --repair' : 'check');
      let pkdns: Awaited<ReturnType<typeof openResolver>> | undefined;
      const reports: Array<LocalCheckReport & { repair?: RepairOutcome }> = [];
      try {
        for (const pubky of pubkys) {
          const layout = new KeyLayout(dataDir, pubky);
          const store = BackupStore.openFs(layout.keyDir);
          const progress = output.json ? undefined : createCountProgress(`checking ${pubky.slice(0, 8)}…`);
          let report: LocalCheckReport & { repair?: RepairOutcome } = await checkBackup(store, layout, {
            readData: options.readData,
            signal,
            onProgress: (done, total) => progress?.update(done, total),
          }).finally(() => progress?.stop());
          const repairable = [...new Set(report.problems.filter((p) => p.repairable).map((p) => p.item))];
          if (options.repair && repairable.length > 0) {
            const manager = await SyncManager.open({
              dataDir,
              config: await loadConfig(dataDir),
              pubkys: [pubky],
              locate: async (key) => {
                pkdns ??= await openResolver(context.pkdnsFlags(), dataDir);
                return locateHomeserver(pkdns.resolver, key);
              },
            });
            const key = manager.key(pubky);
            const done = key ? await key.repair(repairable, signal) : undefined;
            // What is left after the repair is the answer.
            report = {
              ...(await checkBackup(store, layout, { readData: options.readData, signal })),
              repair: {
                fetched: done?.stored ?? 0,
                alreadyIntact: done?.unchanged ?? 0,
                movedToVersions: done?.deleted ?? 0,
                stillFailing: done?.failed ?? 0,
              },
            };
          }
          reports.push(report);
        }
      } catch (error) {
        if (!signal.aborted) throw error;
      } finally {
        await pkdns?.close();
        await lock.release();
      }
      const problems = reports.reduce((n, r) => n + r.problems.length, 0);
      const human = reports.map(describe).join('\n\n');
      if (signal.aborted) {
        process.stderr.write(
          `interrupted: checked ${reports.length} of ${pubkys.length} pubkys; nothing was changed by the check itself\n`,
        );
        process.exitCode = INTERRUPTED_EXIT_CODE;
        return;
      }
      output.result(
        { keys: reports },
        human || 'no pubkys to check',
        problems > 0 ? ExitCode.partial : ExitCode.ok,
      );
    });
}

/** What `--repair` did, per pubky. */
interface RepairOutcome {
  fetched: number;
  alreadyIntact: number;
  movedToVersions: number;
  stillFailing: number;
}

function describe(report: LocalCheckReport & { repair?: RepairOutcome }): string {
  const head = `${report.pubky}  ${report.files} files${report.bytesRead ? `, ${formatBytes(report.bytesRead)} read` : ''}`;
  const r = report.repair;
  const repaired = r
    ? `  repair: ${r.fetched} fetched again from the homeserver` +
      (r.movedToVersions ? `, ${r.movedToVersions} not on the homeserver (moved to versions/)` : '') +
      (r.alreadyIntact ? `, ${r.alreadyIntact} already intact` : '') +
      (r.stillFailing ? `, ${r.stillFailing} still failing` : '')
    : undefined;
  if (report.problems.length === 0)
    return [head, repaired, '  ok: no problems found'].filter(Boolean).join('\n');
  const hint = report.problems.some((p) => p.repairable)
    ? '  run `pubky-backup check --repair` to fetch damaged or missing files again from the homeserver'
    : undefined;
  return [
    head,
    repaired,
    ...report.problems.map((p) => `  ${p.area}: ${p.problem}: ${p.item} (${p.detail})`),
    hint,
  ]
    .filter(Boolean)
    .join('\n');
}
