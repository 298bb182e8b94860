import { type Command, InvalidArgumentError } from 'commander';
import { BackupError } from '../errors.js';
import type { Keypair } from '../identity/index.js';
import { loadUserKeypair } from '../restore/index.js';
import { askPassphrase } from './passphrase.js';

/** Options shared by `restore` and `migrate`. */
export interface RestoreFlags {
  to: string;
  from?: string;
  at?: Date;
  recoveryFile?: string;
  secretKeyFile?: string;
  signupToken?: string;
  dryRun?: boolean;
  concurrency?: number;
}

/** Adds the options `restore` and `migrate` share. */
export function withRestoreOptions(command: Command): Command {
  return command
    .requiredOption(
      '--to <homeserver>',
      'the homeserver to write to: its pubky (found through PKDNS) or its http(s) URL',
    )
    .option(
      '--from <source>',
      'mirror (default: the backup’s data/), snapshot (the newest, or see --at), a snapshot .zip, or a folder laid out like data/',
    )
    .option('--at <time>', 'restore the snapshot that was current at this time (ISO 8601)', parseTime)
    .option(
      '--recovery-file <file>',
      'the user’s Pubky recovery file (passphrase asked, or PUBKY_BACKUP_PASSPHRASE)',
    )
    .option(
      '--secret-key-file <file>',
      'a file with the user’s 32-byte secret key (raw, or 64 hex / 52 z-base-32 / base64 characters)',
    )
    .option('--signup-token <token>', 'signup token, for a homeserver that only takes new users with one')
    .option('--dry-run', 'only show what would be done; nothing is written anywhere')
    .option('--concurrency <n>', 'files uploaded at once (default: config downloadConcurrency)', positive);
}

/** The user's keypair from the flags (passphrase asked only for a recovery file). */
export function keypairFromFlags(pubky: string, flags: RestoreFlags): Promise<Keypair> {
  return loadUserKeypair(pubky, {
    recoveryFile: flags.recoveryFile,
    secretKeyFile: flags.secretKeyFile,
    passphrase: askPassphrase,
  });
}

/** Whether key flags were given at all (a dry run may go without). */
export function hasKeyFlags(flags: RestoreFlags): boolean {
  return flags.recoveryFile !== undefined || flags.secretKeyFile !== undefined;
}

/**
 * A `--at` time: ISO 8601, or a snapshot's or version's stamp `YYYY-MM-DD_HH-MM-SS[.mmm]` (UTC).
 * Commander reports `InvalidArgumentError` as a usage error.
 */
export function parseTime(value: string): Date {
  const stamp = /^(\d{4}-\d{2}-\d{2})_(\d{2})-(\d{2})-(\d{2})(\.\d{3})?$/.exec(value);
  const date = new Date(stamp ? `${stamp[1]}T${stamp[2]}:${stamp[3]}:${stamp[4]}${stamp[5] ?? ''}Z` : value);
  if (Number.isNaN(date.getTime()))
    throw new InvalidArgumentError('expected a time such as 2026-05-01T12:00:00Z');
  return date;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}

/** What to type for errors of the core that say what is needed in words (they name no flags). */
const FLAG_HINTS: Record<string, string> = {
  KEY_REQUIRED:
    '--recovery-file FILE (passphrase typed, or in PUBKY_BACKUP_PASSPHRASE) or --secret-key-file FILE',
  SIGNUP_TOKEN_REQUIRED: '--signup-token TOKEN',
  SIGNUP_REFUSED: '--signup-token TOKEN',
  HOMESERVER_KEY_REQUIRED: '--to <homeserver pubky>, or --homeserver-key <pubky> with a URL',
  BAD_SOURCE: '--from mirror | snapshot | <snapshot.zip> | <folder>, and --at <time> only with snapshots',
  KEY_NOT_ADDED: '--from <snapshot.zip | folder>',
};

/** A `BackupError` of restore or migrate with the flags to use added to its message. */
export function withFlagHint(error: unknown, codes: readonly string[] = Object.keys(FLAG_HINTS)): unknown {
  if (!(error instanceof BackupError) || !codes.includes(error.code)) return error;
  const hint = FLAG_HINTS[error.code];
  if (!hint) return error;
  return new BackupError(error.code, `${error.message} (${hint})`, error.category, error.details, {
    cause: error,
  });
}
