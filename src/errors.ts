/**
 * The one error type of Pubky Backup (hono's `HTTPException`, which knows its status; ours also
 * knows its exit code). Every error a person may see is a `BackupError`: a stable `code` for
 * `--json` and the API, a message that says what happened and what to do (without naming CLI
 * flags: the faces add those), `details` for machines, and a `category` that decides the exit code
 * and the HTTP status in exactly one place each (`exitCodeOf`, `httpStatusOf`).
 */
export type ErrorCategory =
  /** The request itself is wrong: bad arguments, an unknown option, a malformed pubky. */
  | 'usage'
  /** Input or state that cannot be used as it is: a bad config value, a damaged file. */
  | 'invalid'
  /** What was asked for does not exist: a pubky not backed up here, no such version. */
  | 'not-found'
  /** Conflicts with the current state: already added, already running, locked. */
  | 'conflict'
  /** Something outside is not there: the homeserver, PKDNS, the disk (full, read-only). */
  | 'unavailable'
  /** Done, but not all of it: some files failed, differences found. */
  | 'partial'
  /** Stopped by the user (Ctrl-C, SIGTERM). */
  | 'interrupted'
  /** A bug: should never happen. */
  | 'internal';

export class BackupError extends Error {
  override readonly name: string = 'BackupError';

  constructor(
    readonly code: string,
    message: string,
    readonly category: ErrorCategory = 'invalid',
    readonly details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** `{code, message, details}` for `--json` and the API. */
  toJSON(): { code: string; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Exit codes of the CLI contract: 0 ok, 1 partial, 2 error, 130 interrupted. */
export function exitCodeOf(category: ErrorCategory): number {
  if (category === 'partial') return 1;
  if (category === 'interrupted') return 130;
  return 2;
}

/** The HTTP status of the control API for each category. */
export function httpStatusOf(category: ErrorCategory): number {
  switch (category) {
    case 'usage':
    case 'invalid':
      return 400;
    case 'not-found':
      return 404;
    case 'conflict':
      return 409;
    case 'unavailable':
      return 503;
    case 'partial':
      return 207;
    case 'interrupted':
      return 503;
    default:
      return 500;
  }
}

/** File-system failures a person can act on, with what to do. */
const FS_ERRORS: Record<string, { code: string; category: ErrorCategory; what: string }> = {
  EACCES: { code: 'PERMISSION_DENIED', category: 'unavailable', what: 'permission denied' },
  EPERM: { code: 'PERMISSION_DENIED', category: 'unavailable', what: 'operation not permitted' },
  EROFS: { code: 'READ_ONLY', category: 'unavailable', what: 'the file system is read-only' },
  ENOSPC: { code: 'DISK_FULL', category: 'unavailable', what: 'the disk is full' },
  EDQUOT: { code: 'DISK_FULL', category: 'unavailable', what: 'the disk quota is exceeded' },
  ENOTDIR: { code: 'NOT_A_FOLDER', category: 'invalid', what: 'a file stands where a folder is expected' },
  EISDIR: { code: 'NOT_A_FILE', category: 'invalid', what: 'a folder stands where a file is expected' },
  EEXIST: { code: 'ALREADY_EXISTS', category: 'conflict', what: 'something is already there' },
  ENOENT: { code: 'NOT_FOUND', category: 'not-found', what: 'no such file or folder' },
  EMFILE: { code: 'TOO_MANY_OPEN_FILES', category: 'unavailable', what: 'too many open files' },
  EIO: { code: 'IO_ERROR', category: 'unavailable', what: 'the disk reported an I/O error' },
};

/**
 * Any thrown value as a `BackupError`: itself, a file-system error as a plain sentence naming the
 * path (no stack trace for a read-only folder or a full disk), anything else as `INTERNAL` (a bug:
 * the caller shows the stack for a report).
 */
export function toBackupError(error: unknown): BackupError {
  if (error instanceof BackupError) return error;
  const errno = error as NodeJS.ErrnoException & { port?: number };
  if (errno?.code === 'EADDRINUSE') {
    return new BackupError(
      'PORT_IN_USE',
      `port ${errno.port ?? '?'} is already in use (is another instance running?); choose another port, or 0 for any free port.`,
      'conflict',
      { port: errno.port ?? null },
      { cause: error },
    );
  }
  const known = typeof errno?.code === 'string' ? FS_ERRORS[errno.code] : undefined;
  if (known && typeof errno.syscall === 'string') {
    const where = errno.path ? ` (${errno.path})` : '';
    return new BackupError(
      known.code,
      `Cannot ${errno.syscall} here: ${known.what}${where}.`,
      known.category,
      { path: errno.path ?? null, syscall: errno.syscall },
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BackupError('INTERNAL', `unexpected failure: ${message}`, 'internal', {}, { cause: error });
}
