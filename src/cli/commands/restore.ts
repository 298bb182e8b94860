import type { Command } from 'commander';
import { formatBytes, lazyResolver, restoreKey } from '../../app/index.js';
import { loadConfig } from '../../config/index.js';
import { parsePubky } from '../../identity/index.js';
import { type RestoreSummary, sourceSpecOf } from '../../restore/index.js';
import { KeyLayout } from '../../store/index.js';
import type { CliContext } from '../context.js';
import { INTERRUPTED_EXIT_CODE, interruptSignal } from '../interrupt.js';
import { ExitCode } from '../output.js';
import { keypairFromFlags, type RestoreFlags, withFlagHint, withRestoreOptions } from '../restore-options.js';
import { createRestoreProgress } from '../restore-progress.js';

export function registerRestore(program: Command, context: CliContext): void {
  withRestoreOptions(
    program
      .command('restore')
      .description(
        'upload a backup (mirror, snapshot or folder) to a homeserver; resumable, never deletes there',
      )
      .argument('<pubky>', 'the pubky whose files these are'),
  )
    .option('--delete-extra', 'delete files on the homeserver that the backup does not have')
    .action(async (text: string, flags: RestoreFlags & { deleteExtra?: boolean }) => {
      const dataDir = context.dataDir();
      const output = context.output();
      const layout = new KeyLayout(dataDir, parsePubky(text).z32);
      const config = await loadConfig(dataDir);
      const signal = interruptSignal();
      const pkdns = lazyResolver(context.pkdnsFlags(), dataDir);
      const progress = output.json || flags.dryRun ? undefined : createRestoreProgress('restoring');
      let summary: RestoreSummary;
      try {
        await sourceSpecOf(flags.from, flags.at); // a bad --from is told before the passphrase is asked
        const keypair = flags.dryRun ? undefined : await keypairFromFlags(layout.z32, flags);
        // Reads the backup and writes only its restore journal: runs here even beside a daemon.
        summary = await restoreKey(
          {
            dataDir,
            config,
            resolver: pkdns.resolver,
          },
          layout.z32,
          { ...flags, keypair, signal, onProgress: (p) => progress?.update(p) },
        );
      } catch (error) {
        progress?.stop();
        if (signal.aborted) {
          if (output.json) process.stdout.write(`${JSON.stringify({ ok: false, interrupted: true })}\n`);
          process.stderr.write(
            'interrupted: what was uploaded stays; run the same restore again to upload the rest (nothing is uploaded twice)\n',
          );
          process.exitCode = INTERRUPTED_EXIT_CODE;
          return;
        }
        throw withFlagHint(error);
      } finally {
        progress?.stop();
        await pkdns.close();
      }
      output.result(
        { pubky: layout.z32, ...summary },
        describeRestore(layout.z32, summary),
        summary.failed.length > 0 ? ExitCode.partial : ExitCode.ok,
      );
    });
}

/** The summary of a restore (or its plan, for a dry run), for people. */
export function describeRestore(pubky: string, s: RestoreSummary): string {
  const verb = s.dryRun ? 'would upload' : 'uploaded';
  const lines = [
    `${pubky}  ${s.dryRun ? 'plan: ' : ''}${verb} ${s.uploaded} of ${s.files} files (${formatBytes(s.uploadedBytes)}) ` +
      `from ${s.source.kind} ${s.source.location} to ${s.target}; ${s.alreadyThere} already there`,
  ];
  if (s.resumedAfter > 0) lines.push(`  resumed: an interrupted run had uploaded ${s.resumedAfter} files`);
  for (const f of s.failed.slice(0, 50)) lines.push(`  failed  ${f.path}  (${f.reason})`);
  if (s.failed.length > 50) lines.push(`  … and ${s.failed.length - 50} more failed`);
  if (s.extra > 0) {
    lines.push(
      s.deleted > 0
        ? `  deleted ${s.deleted} files on the homeserver that the backup does not have`
        : `  ${s.extra} files on the homeserver are not in the backup (kept; --delete-extra removes them), e.g. ${s.extraPaths[0]}`,
    );
  }
  for (const note of s.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}
