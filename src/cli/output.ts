import { ConfigError } from '../config/index.js';
import { PubkyParseError, RecoveryFileError } from '../identity/index.js';
import { PkdnsError } from '../pkdns/index.js';
import { SnapshotError } from '../snapshot/index.js';
import { BatchAborted } from '../sync/index.js';
import { AlreadyRunningError } from '../util/instance-lock.js';

/** Exit codes of every command: the CLI contract in the README. */
export const ExitCode = { ok: 0, partial: 1, error: 2 } as const;

export interface Output {
  json: boolean;
  /**
   * Prints a result: `data` as one JSON line with --json (`ok` true only for exit code 0), else the
   * human text; sets the process exit code when it is not 0 (1 partial, 2 error).
   */
  result(data: Record<string, unknown>, human: string, exitCode?: number): void;
  /** Prints an error to stderr (or as JSON on stdout with --json). */
  error(code: string, message: string, extra?: Record<string, unknown>): void;
}

export function createOutput(json: boolean, stdout = process.stdout, stderr = process.stderr): Output {
  return {
    json,
    result(data, human, exitCode = ExitCode.ok) {
      stdout.write(json ? `${JSON.stringify({ ok: exitCode === ExitCode.ok, ...data })}\n` : `${human}\n`);
      if (exitCode !== ExitCode.ok) process.exitCode = exitCode;
    },
    error(code, message, extra = {}) {
      if (json) stdout.write(`${JSON.stringify({ ok: false, error: { code, message, ...extra } })}\n`);
      else stderr.write(`error: ${message}\n`);
    },
  };
}

/** An error meant for the user: a stable code and a message that says what to do. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Turns a thrown error into a printed message; unknown errors keep their stack for bug reports. */
export function reportError(output: Output, error: unknown): number {
  if (
    error instanceof PubkyParseError ||
    error instanceof RecoveryFileError ||
    error instanceof CliError ||
    error instanceof PkdnsError ||
    error instanceof SnapshotError ||
    error instanceof BatchAborted
  ) {
    output.error(error.code, error.message);
  } else if (error instanceof ConfigError) {
    output.error('CONFIG_INVALID', error.message, { file: error.file, field: error.field ?? null });
  } else if (error instanceof AlreadyRunningError) {
    output.error('ALREADY_RUNNING', error.message, { pid: error.pid ?? null });
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    const { port } = error as NodeJS.ErrnoException & { port?: number };
    output.error(
      'PORT_IN_USE',
      `port ${port} is already in use (is another instance running?); choose another port or 0 for any free port`,
    );
  } else {
    const message = error instanceof Error ? error.message : String(error);
    output.error('INTERNAL', `unexpected failure: ${message}`);
    if (!output.json && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  }
  return ExitCode.error;
}
