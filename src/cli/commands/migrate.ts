import type { Command } from 'commander';
import { requireAddedKey } from '../../app/index.js';
import { BackupError } from '../../errors.js';
import { MIGRATE_STEPS, type MigrateResult, readMigrateRecord, sourceSpecOf } from '../../restore/index.js';
import type { KeyLayout } from '../../store/index.js';
import { withBackend } from '../backend.js';
import type { CliContext } from '../context.js';
import { INTERRUPTED_EXIT_CODE, interruptSignal } from '../interrupt.js';
import { ExitCode } from '../output.js';
import {
  hasKeyFlags,
  keypairFromFlags,
  type RestoreFlags,
  withFlagHint,
  withRestoreOptions,
} from '../restore-options.js';
import { createRestoreProgress } from '../restore-progress.js';

export function registerMigrate(program: Command, context: CliContext): void {
  withRestoreOptions(
    program
      .command('migrate')
      .description(
        'move a backed-up pubky to another homeserver: sign up, restore, republish _pubky, repoint the backup, verify',
      )
      .argument('<pubky>', 'an added pubky'),
  )
    .option('--homeserver-key <pubky>', 'the new homeserver’s pubky, when --to is a URL')
    .action(async (text: string, flags: RestoreFlags & { homeserverKey?: string }) => {
      const dataDir = context.dataDir();
      const output = context.output();
      const layout = requireAddedKey(dataDir, text);
      const signal = interruptSignal();
      const progress = output.json || flags.dryRun ? undefined : createRestoreProgress('uploading');
      let result: MigrateResult;
      let where = 'this process';
      let stepsShown = false;
      try {
        await sourceSpecOf(flags.from, flags.at); // a bad --from is told before the passphrase is asked
        const keypair =
          flags.dryRun && !hasKeyFlags(flags) ? undefined : await keypairFromFlags(layout.z32, flags);
        // Through the daemon when one runs (it stops syncing this pubky meanwhile), else here.
        result = await withBackend(context, 'migrate', (backend) => {
          where = backend.where;
          return backend.migrate(
            layout.z32,
            { ...flags, keypair, signal },
            (step, record) => {
              if (step === 'restore' && record.status !== 'running') progress?.stop();
              if (!output.json && !flags.dryRun && record.status !== 'running') {
                stepsShown = true;
                process.stderr.write(
                  `${record.status === 'done' ? 'done' : 'FAILED'}  ${step}: ${record.detail}\n`,
                );
              }
            },
            (p) => progress?.update(p),
          );
        });
      } catch (error) {
        progress?.stop();
        if (signal.aborted) {
          if (output.json) process.stdout.write(`${JSON.stringify({ ok: false, interrupted: true })}\n`);
          process.stderr.write(
            where === 'this process'
              ? 'interrupted: every finished step is recorded; run the same migrate again to continue where it stopped\n'
              : `interrupted: ${where} carries on with the migrate; \`pubky-backup status\` shows how it ends\n`,
          );
          process.exitCode = INTERRUPTED_EXIT_CODE;
          return;
        }
        throw await withResumeHint(withFlagHint(error, MIGRATE_HINTS), layout);
      } finally {
        progress?.stop();
      }
      const differences = result.verify?.outcome === 'differences';
      const partial = differences || (result.restore?.failed.length ?? 0) > 0;
      output.result(
        { ...result },
        describeMigrate(result, { stepsShown, where }),
        partial ? ExitCode.partial : ExitCode.ok,
      );
    });
}

/** Flag hints that apply to migrate (a missing key is not fixed by a --from there). */
const MIGRATE_HINTS = [
  'KEY_REQUIRED',
  'SIGNUP_TOKEN_REQUIRED',
  'SIGNUP_REFUSED',
  'HOMESERVER_KEY_REQUIRED',
  'BAD_SOURCE',
];

/** An error after some steps were recorded says that a rerun continues from there. */
async function withResumeHint(error: unknown, layout: KeyLayout): Promise<unknown> {
  const record = await readMigrateRecord(layout);
  const done = MIGRATE_STEPS.filter((step) => record?.steps[step]?.status === 'done');
  if (!record || record.finishedAt || done.length === 0 || !(error instanceof BackupError)) return error;
  return new BackupError(
    error.code,
    `${error.message} (done so far: ${done.join(', ')}; run the same migrate again to continue from there)`,
    error.category,
    error.details,
    { cause: error },
  );
}

/** The result for people; steps already printed as they ended are not listed again. */
function describeMigrate(r: MigrateResult, run: { stepsShown: boolean; where: string }): string {
  const lines: string[] = [];
  if (r.dryRun) {
    lines.push(`${r.pubky}  plan: migrate to ${r.target.key ?? ''} (${r.target.url})`);
    for (const [i, s] of r.steps.entries()) {
      lines.push(
        `  ${i + 1}. ${s.step.padEnd(8)} ${s.status === 'done' ? '(done in an earlier run) ' : ''}${s.detail}`,
      );
    }
    for (const f of r.restore?.failed ?? []) lines.push(`  cannot be restored: ${f.path} (${f.reason})`);
    for (const note of r.restore?.notes ?? []) lines.push(`  note: ${note}`);
    lines.push('  nothing was changed (dry run)');
  } else {
    lines.push(
      `${r.pubky}  migrated to ${r.target.key} (${r.target.url})${r.resumedAt ? `, resumed at ${r.resumedAt}` : ''}`,
    );
    if (!run.stepsShown) {
      for (const s of r.steps)
        lines.push(`  ${s.status === 'done' ? 'done' : s.status}  ${s.step.padEnd(8)} ${s.detail ?? ''}`);
    }
    if (r.verify?.outcome === 'differences') {
      for (const f of r.verify.findings.slice(0, 20))
        lines.push(`    ${f.problem}  ${f.path}  (${f.detail})`);
    }
    lines.push(
      run.where === 'this process'
        ? '  run `pubky-backup sync` (or start the daemon) to keep backing up from the new homeserver'
        : `  ${run.where} follows the new homeserver from now on`,
    );
  }
  for (const note of r.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}
