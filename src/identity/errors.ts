/** Why a pasted text is not a pubky. Stable codes for `--json` and tests. */
export type PubkyParseErrorCode =
  | 'NOT_TEXT'
  | 'EMPTY'
  | 'INVALID_CHARACTER'
  | 'WRONG_LENGTH'
  | 'NOT_CANONICAL'
  | 'NOT_ED25519_KEY'
  | 'ADDRESS_WITHOUT_PUBKY';

export class PubkyParseError extends Error {
  override readonly name = 'PubkyParseError';
  constructor(
    readonly code: PubkyParseErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type RecoveryFileErrorCode = 'NOT_A_RECOVERY_FILE' | 'WRONG_PASSPHRASE' | 'EMPTY_PASSPHRASE';

export class RecoveryFileError extends Error {
  override readonly name = 'RecoveryFileError';
  constructor(
    readonly code: RecoveryFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}
