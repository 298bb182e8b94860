import { BackupError, exitCodeOf, toBackupError } from '../errors.js';

/** Exit codes of every command: the CLI contract in the README (130: interrupted). */
export const ExitCode = { ok: 0, partial: 1, error: 2, interrupted: 130 } as const;

export interface Output {
  json: boolean;
  /**
   * Prints a result: `data` as one JSON line with --json (`ok` true only for exit code 0), else the
   * human text; sets the process exit code when it is not 0 (1 partial, 2 error).
   */
  result(data: Record<string, unknown>, human: string, exitCode?: number): void;
  /** Prints an error: one JSON line `{ok:false, error:{code, message, details}}`, or `error: …` on stderr. */
  error(error: BackupError): void;
}

export function createOutput(json: boolean, stdout = process.stdout, stderr = process.stderr): Output {
  return {
    json,
    result(data, human, exitCode = ExitCode.ok) {
      stdout.write(json ? `${JSON.stringify({ ok: exitCode === ExitCode.ok, ...data })}\n` : `${human}\n`);
      if (exitCode !== ExitCode.ok) process.exitCode = exitCode;
    },
    error(error) {
      if (json) stdout.write(`${JSON.stringify({ ok: false, error: error.toJSON() })}\n`);
      else stderr.write(`error: ${error.message}\n`);
    },
  };
}

/**
 * Prints any thrown value as a `BackupError` and returns its exit code. A person's error (bad
 * input, a full disk, a read-only folder) is one line; only an unexpected failure (a bug) shows
 * its stack, for a report.
 */
export function reportError(output: Output, thrown: unknown): number {
  const error = toBackupError(thrown);
  output.error(error);
  if (error.category === 'internal' && !output.json) {
    const cause = error.cause instanceof Error ? error.cause : error;
    if (cause.stack) process.stderr.write(`${cause.stack}\n`);
  }
  return exitCodeOf(error.category);
}

export { BackupError };
