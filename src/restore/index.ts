export { RestoreError, type RestoreErrorCode } from './errors.js';
export { RestoreJournal } from './journal.js';
export { type KeyMaterialOptions, loadUserKeypair, parseSecretKey } from './key-material.js';
export { type MigrateOptions, type MigrateResult, migrate } from './migrate.js';
export {
  MIGRATE_STEPS,
  type MigrateRecord,
  type MigrateStep,
  readMigrateRecord,
  type StepRecord,
} from './migrate-state.js';
export { openRestoreSource } from './open-source.js';
export { repointBackup } from './repoint.js';
export {
  listTarget,
  type RestoreOptions,
  type RestoreProgress,
  type RestoreSummary,
  restoreFiles,
} from './restore.js';
export { type OpenedSession, openSession } from './session.js';
export { type RestoreSource, type SourceFile, type SourceSpec, sourceSpecOf } from './source.js';
export { openFolderSource } from './source-folder.js';
export { openMirrorSource } from './source-mirror.js';
export { chooseSnapshot, openSnapshotSource } from './source-snapshot.js';
export { probeHomeserver, type RestoreTarget, resolveTarget, targetClient } from './target.js';
export { landed, SourceDamagedError, uploadFile, verifiedBytes } from './upload.js';
