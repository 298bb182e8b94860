import { BackupError, type ErrorCategory } from '../errors.js';

/** Stable codes of what can stop a restore or a migrate; each message says what to do. */
export type RestoreErrorCode =
  | 'KEY_REQUIRED'
  | 'KEY_MISMATCH'
  | 'BAD_SECRET_KEY_FILE'
  | 'NO_PASSPHRASE'
  | 'BAD_TARGET'
  | 'TARGET_UNREACHABLE'
  | 'NOT_A_HOMESERVER'
  | 'HOMESERVER_KEY_REQUIRED'
  | 'SIGNUP_TOKEN_REQUIRED'
  | 'SIGNUP_REFUSED'
  | 'SIGNIN_REFUSED'
  | 'WRITES_REFUSED'
  | 'BAD_SOURCE'
  | 'NO_SNAPSHOT'
  | 'SOURCE_MISMATCH'
  | 'KEY_NOT_ADDED'
  | 'ALREADY_THERE'
  | 'PUBLISH_FAILED';

/** The category (exit code, HTTP status) of each code. */
const CATEGORIES: Record<RestoreErrorCode, ErrorCategory> = {
  KEY_REQUIRED: 'usage',
  KEY_MISMATCH: 'invalid',
  BAD_SECRET_KEY_FILE: 'invalid',
  NO_PASSPHRASE: 'usage',
  BAD_TARGET: 'usage',
  TARGET_UNREACHABLE: 'unavailable',
  NOT_A_HOMESERVER: 'invalid',
  HOMESERVER_KEY_REQUIRED: 'usage',
  SIGNUP_TOKEN_REQUIRED: 'invalid',
  SIGNUP_REFUSED: 'invalid',
  SIGNIN_REFUSED: 'invalid',
  WRITES_REFUSED: 'unavailable',
  BAD_SOURCE: 'usage',
  NO_SNAPSHOT: 'not-found',
  SOURCE_MISMATCH: 'invalid',
  KEY_NOT_ADDED: 'not-found',
  ALREADY_THERE: 'conflict',
  PUBLISH_FAILED: 'unavailable',
};

/**
 * A restore or migrate that cannot go on, for a reason the user can act on (a wrong key, a
 * homeserver that wants a signup token, a source that is not a backup). Never carries a secret.
 */
export class RestoreError extends BackupError {
  override readonly name = 'RestoreError';
  declare readonly code: RestoreErrorCode;

  constructor(code: RestoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, CATEGORIES[code], {}, options);
  }
}
