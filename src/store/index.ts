export type { ActivityEntry } from './activity-log.js';
export { appendActivity, readActivity } from './activity-log.js';
export type { BackupStoreOptions, StagedFile } from './backup-store.js';
export { BackupStore, type Committed, versionStamp } from './backup-store.js';
export type { ContentHash } from './content-hash.js';
export { hashStream } from './content-hash.js';
export type { CursorAnchor, CursorState } from './cursor-file.js';
export {
  readAnchor,
  readCursor,
  readCursorState,
  writeAnchor,
  writeCursor,
} from './cursor-file.js';
export type { StoreDriver } from './driver.js';
export { isNotFound, operatorDriver } from './driver.js';
export type {
  HashStoredFile,
  IndexDifference,
  IndexEntry,
  JournalLine,
  JournalReader,
} from './file-index.js';
export { FileIndex, openJournal, rebuildIndex } from './file-index.js';
export { fsDriver } from './fs-driver.js';
export { compareWithIndex, type IntegrityFinding, type IntegrityOptions } from './integrity.js';
export {
  acceptDeletes,
  clearPaused,
  isInactive,
  type KeyConfig,
  markActive,
  markInactive,
  type PausedState,
  readKeyConfig,
  readPaused,
  readResolvedHomeserver,
  writeKeyConfig,
  writePaused,
} from './key-state.js';
export { type LastRun, readLastRun, writeLastRun } from './last-run.js';
export { KeyLayout, listKeys } from './layout.js';
export type { RetryItem } from './retry-queue.js';
export { RetryFileError, RetryQueue } from './retry-queue.js';
export type { BackupPath, PathRejection } from './safe-path.js';
export {
  backupPathOf,
  CONTINUED,
  DATA_PREFIX,
  escapeSegment,
  hasControlChar,
  homeserverPathOf,
  MAX_PATH_BYTES,
  MAX_SEGMENT_BYTES,
  MAX_STORED_NAME_BYTES,
  SELF_ENTRY,
  storePathOf,
  unescapeSegment,
} from './safe-path.js';
export { acquireWriteLock } from './write-lock.js';
