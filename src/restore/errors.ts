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

/**
 * A restore or migrate that cannot go on, for a reason the user can act on (a wrong key, a
 * homeserver that wants a signup token, a source that is not a backup). Never carries a secret.
 */
export class RestoreError extends Error {
  override readonly name = 'RestoreError';
  constructor(
    readonly code: RestoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
