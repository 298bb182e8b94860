export { MASS_DELETE_FRACTION, MASS_DELETE_MIN_FILES } from './delete-guard.js';
export { IntegrityError } from './download.js';
export { KeySync, WAITING_REASON } from './key-sync.js';
export { BatchAborted } from './key-writer.js';
export { pausedReason } from './pause.js';
export { withFeedRetries } from './retry-policy.js';
export type { SyncReport, SyncStatus } from './status.js';
export { type HomeserverLocation, SyncManager, type SyncManagerOptions } from './sync-manager.js';
