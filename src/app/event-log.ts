import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { EVENT_TYPES, type EventType } from './event-types.js';

export { EVENT_TYPES, type EventType } from './event-types.js';

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
