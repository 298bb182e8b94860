import { BackupError } from '../errors.js';

/** Why a pasted text is not a pubky. Stable codes for `--json` and tests. */
export type PubkyParseErrorCode =
  | 'NOT_TEXT'
  | 'EMPTY'
  | 'INVALID_CHARACTER'
  | 'WRONG_LENGTH'
  | 'NOT_CANONICAL'
  | 'NOT_ED25519_KEY'
  | 'ADDRESS_WITHOUT_PUBKY';

export class PubkyParseError extends BackupError {
  override readonly name = 'PubkyParseError';
  declare readonly code: PubkyParseErrorCode;
  constructor(code: PubkyParseErrorCode, message: string) {
    super(code, message, 'usage');
  }
}

export type RecoveryFileErrorCode = 'NOT_A_RECOVERY_FILE' | 'WRONG_PASSPHRASE' | 'EMPTY_PASSPHRASE';

export class RecoveryFileError extends BackupError {
  override readonly name = 'RecoveryFileError';
  declare readonly code: RecoveryFileErrorCode;
  constructor(code: RecoveryFileErrorCode, message: string) {
    super(code, message, 'invalid');
  }
}
