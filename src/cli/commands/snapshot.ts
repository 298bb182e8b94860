import { rm } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { formatBytes, selectKeys } from '../../app/index.js';
import {
  checkSnapshot,
  extractSnapshot,
  hasPolicy,
  listSnapshots,
  planPruneKeepingGood,
  type RetentionPolicy,
  removeSnapshotLeftovers,
} from '../../snapshot/index.js';
import { KeyLayout } from '../../store/index.js';
import { type Backend, withBackend } from '../backend.js';
import type { CliContext } from '../context.js';
import { INTERRUPTED_EXIT_CODE, interruptSignal } from '../interrupt.js';
import { BackupError, ExitCode } from '../output.js';

export function registerSnapshot(program: Command, context: CliContext): void {
  const snapshot = program.command('snapshot').description('point-in-time ZIP archives of backups');

  snapshot
    .command('create')
    .description('archive the current backup of each (or the named) pubky into snapshots/<UTC time>.zip')
    .argument('[pubky...]', 'only these pubkys')
    .action(async (texts: string[]) => {
      const signal = interruptSignal();
      let created: Awaited<ReturnType<Backend['createSnapshots']>> = [];
      try {
        created = await withBackend(context, 'snapshot create', (backend) =>
          backend.createSnapshots(texts, signal),
        );
      } catch (error) {
        if (!signal.aborted) throw error;
        process.stderr.write('interrupted: the unfinished snapshot left nothing behind\n');
        process.exitCode = INTERRUPTED_EXIT_CODE;
        return;
      }
      const damaged = created.flatMap((c) => c.damaged.map((d) => `  ${d.problem}: ${d.path}`));
      context
        .output()
        .result(
          { snapshots: created },
          [
            ...created.map(
              (c) => `${c.pubky}  ${c.file}  (${c.files} files, ${formatBytes(c.bytes)}, cursor ${c.cursor})`,
            ),
            ...(damaged.length > 0
              ? [
                  `${damaged.length} files did not hold the backed-up bytes when archived (recorded in the manifest); run \`pubky-backup check --repair\`, then snapshot again:`,
                  ...damaged,
                ]
              : []),
          ].join('\n') || 'no pubkys to snapshot',
          damaged.length > 0 ? ExitCode.partial : ExitCode.ok,
        );
    });

  snapshot
    .command('list')
    .description('list snapshots, oldest first')
    .argument('[pubky...]', 'only these pubkys')
    .action(async (texts: string[]) => {
      const dataDir = context.dataDir();
      const all = [];
      for (const pubky of await selectKeys(dataDir, texts))
        all.push(...(await listSnapshots(new KeyLayout(dataDir, pubky))));
      context
        .output()
        .result(
          { snapshots: all.map((s) => ({ ...s, createdAt: s.createdAt.toISOString() })) },
          all.map((s) => `${s.pubky}  ${s.name}  ${formatBytes(s.size).padStart(9)}  ${s.file}`).join('\n') ||
            'no snapshots yet',
        );
    });

  snapshot
    .command('prune')
    .description('delete snapshots a retention policy does not keep (restic `forget` rules)')
    .argument('[pubky...]', 'only these pubkys')
    .option('--keep-last <n>', 'keep the n newest snapshots', count)
    .option('--keep-daily <n>', 'keep the newest snapshot of each of the last n days', count)
    .option('--keep-weekly <n>', 'keep the newest snapshot of each of the last n weeks', count)
    .option('--keep-monthly <n>', 'keep the newest snapshot of each of the last n months', count)
    .option('--dry-run', 'only show what would be deleted')
    .action(async (texts: string[], options: RetentionPolicy & { dryRun?: boolean }) => {
      const { dryRun, ...policy } = options;
      if (!hasPolicy(policy)) {
        throw new BackupError(
          'NO_POLICY',
          'No retention rule given (--keep-last/-daily/-weekly/-monthly): nothing would be kept, so nothing is pruned.',
          'usage',
        );
      }
      const dataDir = context.dataDir();
      const removed = [];
      const kept = [];
      const damaged: Array<{ name: string; file: string }> = [];
      for (const pubky of await selectKeys(dataDir, texts)) {
        if (!dryRun) await removeSnapshotLeftovers(new KeyLayout(dataDir, pubky));
        const plan = await planPruneKeepingGood(await listSnapshots(new KeyLayout(dataDir, pubky)), policy);
        damaged.push(...plan.damaged);
        for (const snapshotInfo of plan.remove) {
          if (!dryRun) await rm(snapshotInfo.file, { force: true });
          removed.push(snapshotInfo);
        }
        kept.push(...plan.keep.map((k) => ({ ...k.snapshot, reasons: k.reasons })));
      }
      const verb = dryRun ? 'would delete' : 'deleted';
      context.output().result(
        {
          dryRun: dryRun === true,
          removed: removed.map((s) => s.file),
          kept: kept.map((k) => ({ file: k.file, reasons: k.reasons })),
          damaged: damaged.map((d) => d.file),
        },
        [
          ...damaged.map(
            (d) => `damaged ${d.name}  (left alone: not counted, not deleted; see \`snapshot check\`)`,
          ),
          ...kept.map((k) => `keep    ${k.name}  (${k.reasons.join(', ')})`),
          ...removed.map((s) => `${verb}  ${s.name}`),
        ].join('\n') || 'no snapshots',
      );
    });

  snapshot
    .command('check')
    .description("verify every file of a snapshot against its manifest's BLAKE3 (exit 1 on problems)")
    .argument('<file>', 'a snapshot .zip')
    .action(async (file: string) => {
      const report = await checkSnapshot(file);
      const human = report.problems.length
        ? report.problems.map((p) => `${p.problem}: ${p.entry}${p.detail ? ` (${p.detail})` : ''}`).join('\n')
        : `ok: ${report.entries} files, ${formatBytes(report.bytes)}, all match the manifest (cursor ${report.manifest?.cursor})`;
      context
        .output()
        .result({ ...report }, human, report.problems.length > 0 ? ExitCode.partial : ExitCode.ok);
    });

  snapshot
    .command('extract')
    .description('extract a snapshot into a folder (refuses entries that would land outside it)')
    .argument('<file>', 'a snapshot .zip')
    .argument('<dir>', 'target folder')
    .action(async (file: string, dir: string) => {
      const result = await extractSnapshot(file, dir);
      const failures = [
        ...result.failed.map((f) => `failed: ${f.entry}: ${f.reason}`),
        ...result.damaged.map(
          (d) => `damaged: ${d}: extracted as archived, but the manifest records these bytes as damaged`,
        ),
      ];
      context
        .output()
        .result(
          { ...result },
          [
            ...failures,
            `extracted ${result.files} files (${formatBytes(result.bytes)}) into ${result.dir}`,
          ].join('\n'),
          failures.length > 0 ? ExitCode.partial : ExitCode.ok,
        );
    });
}

function count(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a whole number ≥ 1');
  return Number(value);
}
