import { EventEmitter } from 'node:events';
import { z } from 'zod';

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

export const BackupEventSchema = z.object({
  id: z.number().int().positive(),
  type: z.enum(EVENT_TYPES),
  /** ISO 8601 UTC. */
  time: z.string(),
  data: z.record(z.string(), z.unknown()),
});

export type BackupEvent = z.infer<typeof BackupEventSchema>;

/**
 * An in-memory event log with rising ids. Keeps the last `capacity` events: a reader that was away
 * longer than that starts from the oldest kept one (`since` tells it by returning a first id
 * higher than it asked for).
 */
export class EventLog {
  private readonly events: BackupEvent[] = [];
  private nextId = 1;
  private readonly emitter = new EventEmitter<{ event: [BackupEvent] }>();

  constructor(private readonly capacity = 1000) {
    // Every SSE client subscribes: the count is bounded by the server's connections, not a leak.
    this.emitter.setMaxListeners(0);
  }

  /** Appends an event and tells the subscribers. */
  publish(type: EventType, data: Record<string, unknown> = {}): BackupEvent {
    const event: BackupEvent = { id: this.nextId++, type, time: new Date().toISOString(), data };
    this.events.push(event);
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    this.emitter.emit('event', event);
    return event;
  }

  /** Events with an id greater than `id` (0: all kept), oldest first, at most `limit`. */
  since(id: number, limit = this.capacity): BackupEvent[] {
    const from = this.events.findIndex((event) => event.id > id);
    return from === -1 ? [] : this.events.slice(from, from + limit);
  }

  /** The id of the newest event (0 when none yet). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Calls `listener` for every new event; returns the unsubscribe function. */
  subscribe(listener: (event: BackupEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
