import type { Command } from 'commander';
import { formatBytes, type RepairOutcome } from '../../app/index.js';
import type { LocalCheckReport } from '../../verify/index.js';
import { withBackend } from '../backend.js';
import type { CliContext } from '../context.js';
import { INTERRUPTED_EXIT_CODE, interruptSignal } from '../interrupt.js';
import { ExitCode } from '../output.js';
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
      const output = context.output();
      const signal = interruptSignal();
      const progress = output.json ? undefined : createCountProgress('checking');
      let reports: Array<LocalCheckReport & { repair?: RepairOutcome }> = [];
      try {
        reports = await withBackend(context, options.repair ? 'check --repair' : 'check', (backend) =>
          backend.check(texts, {
            ...options,
            signal,
            onProgress: (_, done, total) => progress?.update(done, total),
          }),
        );
      } catch (error) {
        if (!signal.aborted) throw error;
      } finally {
        progress?.stop();
      }
      if (signal.aborted) {
        process.stderr.write('interrupted: the check stopped; nothing was changed by the check itself\n');
        process.exitCode = INTERRUPTED_EXIT_CODE;
        return;
      }
      const problems = reports.reduce((n, r) => n + r.problems.length, 0);
      output.result(
        { keys: reports },
        reports.map(describe).join('\n\n') || 'no pubkys to check',
        problems > 0 ? ExitCode.partial : ExitCode.ok,
      );
    });
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
