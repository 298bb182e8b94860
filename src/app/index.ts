export { formatBytes } from '../util/format-bytes.js';
export { type AddedKey, addKey } from './add-key.js';
export {
  type ExitContext,
  type ExitOptions,
  migrateKey,
  restoreKey,
  type VerifyOutcome,
  verifyKey,
} from './credible-exit.js';
export { type BackupEvent, BackupEventSchema, EVENT_TYPES, EventLog, type EventType } from './event-log.js';
export { type KeySummary, summarizeKey } from './key-summary.js';
export { activeKeys, requireAddedKey, selectKeys } from './keys.js';
export {
  chooseRelays,
  lazyResolver,
  locateHomeserver,
  openResolver,
  type PkdnsFlags,
  RELAYS_ENV,
} from './pkdns.js';
export { BackupService, type RepairOutcome, type ServiceOptions, type SyncOutcome } from './service.js';
