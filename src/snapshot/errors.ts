/** A snapshot that cannot be used as asked: not a snapshot, unsafe entries, damaged. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  constructor(
    readonly code: 'NOT_A_SNAPSHOT' | 'UNSAFE_ENTRY' | 'DAMAGED',
    message: string,
  ) {
    super(message);
  }
}
