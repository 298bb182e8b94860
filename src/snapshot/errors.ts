import { BackupError } from '../errors.js';

/** A snapshot that cannot be used as asked: not a snapshot, unsafe entries, damaged. */
export class SnapshotError extends BackupError {
  override readonly name = 'SnapshotError';
  declare readonly code: 'NOT_A_SNAPSHOT' | 'UNSAFE_ENTRY' | 'DAMAGED';
  constructor(code: 'NOT_A_SNAPSHOT' | 'UNSAFE_ENTRY' | 'DAMAGED', message: string) {
    super(code, message, code === 'DAMAGED' ? 'partial' : 'invalid');
  }
}
