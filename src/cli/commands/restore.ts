import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { formatBytes, openResolver } from '../../app/index.js';
import { loadConfig } from '../../config/index.js';
import { parsePubky } from '../../identity/index.js';
import {
  openRestoreSource,
  openSession,
  probeHomeserver,
  RestoreJournal,
  type RestoreSummary,
  resolveTarget,
  restoreFiles,
  sourceSpecOf,
  targetClient,
} from '../../restore/index.js';
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
      let pkdns: Awaited<ReturnType<typeof openResolver>> | undefined;
      const progress = output.json || flags.dryRun ? undefined : createRestoreProgress('restoring');
      let summary: RestoreSummary;
      try {
        const spec = await sourceSpecOf(flags.from, flags.at);
        const keypair = flags.dryRun ? undefined : await keypairFromFlags(layout.z32, flags);
        const target = await resolveTarget(flags.to, async () => {
          pkdns ??= await openResolver(context.pkdnsFlags(), dataDir);
          return pkdns.resolver;
        });
        const client = targetClient(target, config.requestTimeoutSeconds * 1000);
        await probeHomeserver(client, signal);
        const source = await openRestoreSource(spec, layout);
        try {
          const session =
            keypair && (await openSession(client, keypair, { signupToken: flags.signupToken, signal }));
          const journal =
            !flags.dryRun && existsSync(layout.keyDir)
              ? await RestoreJournal.open(layout, target.url, flags.from ?? 'mirror')
              : undefined;
          summary = await restoreFiles({
            pubky: layout.z32,
            source,
            client,
            session: session?.session,
            concurrency: flags.concurrency ?? config.downloadConcurrency,
            dryRun: flags.dryRun,
            deleteExtra: flags.deleteExtra,
            journal,
            signal,
            onProgress: (p) => progress?.update(p),
          });
          if (session?.signedUp) summary.notes.unshift(`signed ${layout.z32} up on ${target.url}`);
        } finally {
          await source.close();
        }
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
        await pkdns?.close();
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
