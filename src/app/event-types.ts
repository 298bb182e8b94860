// No imports: the dashboard's bundle takes this list too, so it listens for every type there is.

/**
 * The fixed set of event types (Syncthing's `lib/events` model): every state change of the service
 * is one of these, with rising ids, so the dashboard and the tray follow one stream and resume it
 * with `since`. Documented in the README and in the OpenAPI document.
 */
export const EVENT_TYPES = [
  /** The service started; `data`: `{ pid, version }`. */
  'Started',
  /** The service is stopping (SIGTERM, `daemon stop`); `data`: `{}`. */
  'Stopping',
  /** A pubky was added; `data`: `{ pubky, homeserver }`. */
  'KeyAdded',
  /** A pubky was removed; `data`: `{ pubky, dataDeleted }`. */
  'KeyRemoved',
  /** A key's state changed; `data`: `{ pubky, state, … }` (the key's `SyncStatus`). */
  'StateChanged',
  /** A catch-up in progress; `data`: `{ pubky, done, total, bytes }` (at most 2 per second per key). */
  'SyncProgress',
  /** A catch-up finished; `data`: the run's report (`stored`, `deleted`, `failed`, `cursor`, …). */
  'SyncFinished',
  /** A catch-up failed; `data`: `{ pubky, code, message }`. */
  'SyncFailed',
  /** A snapshot was written; `data`: `{ pubky, file, files, bytes, damaged }`. */
  'SnapshotCreated',
  /** `check` finished; `data`: `{ pubky, problems }`. */
  'CheckFinished',
  /** Settings changed; `data`: `{ field, value }`. */
  'ConfigChanged',
  /** Moving the backup; `data`: `{ files, bytes, totalFiles, totalBytes }` (at most 2 per second). */
  'MoveProgress',
  /** The backup was moved; `data`: `{ from, to, files, bytes, renamed }`. */
  'BackupMoved',
  /** A verify against the homeserver finished; `data`: `{ pubky, outcome, counts, report }`. */
  'VerifyFinished',
  /** A restore or a migrate uploading; `data`: `{ pubky, done, total, bytes, totalBytes }` (≤ 2/s). */
  'RestoreProgress',
  /** A restore finished; `data`: `{ pubky, target, uploaded, alreadyThere, failed }`. */
  'RestoreFinished',
  /** A migrate step started or ended; `data`: `{ pubky, step, status, detail }`. */
  'MigrateStep',
  /** A migrate ended; `data`: `{ pubky, complete, target }`. */
  'MigrateFinished',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
