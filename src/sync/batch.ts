import { compareCursors, type FeedEvent } from '../homeserver/index.js';
import { backupPathOf, type PathRejection } from '../store/index.js';

export interface PlannedChange {
  type: 'PUT' | 'DEL';
  path: string;
  storePath: string;
  contentHash?: string;
  /** The event's own cursor, when the feed gives one (SSE): recorded in the index entry. */
  cursor?: string;
}

export interface IgnoredEvent {
  uri: string;
  reason: PathRejection;
  message: string;
}

export interface BatchPlan {
  /**
   * One change per path: the event with the highest cursor wins (PUT, DEL, PUT → PUT), whatever
   * the order the lines came in; events without a cursor (`/events/` lines) keep feed order.
   */
  changes: PlannedChange[];
  ignored: IgnoredEvent[];
}

/**
 * Turns a batch of feed events into the changes to apply. Events that would write outside the
 * key's `/pub/` tree, or that belong to another owner, are set aside (and logged by the caller).
 */
export function planBatch(owner: string, events: readonly FeedEvent[]): BatchPlan {
  const latest = new Map<string, PlannedChange>();
  const ignored: IgnoredEvent[] = [];
  for (const event of inCursorOrder(events)) {
    const safe = backupPathOf(event.uri, owner);
    if (!safe.ok) {
      ignored.push({ uri: event.uri, reason: safe.reason, message: safe.message });
      continue;
    }
    latest.delete(safe.path); // re-insert so the order follows the last event
    latest.set(safe.path, {
      type: event.type,
      path: safe.path,
      storePath: safe.storePath,
      contentHash: event.type === 'PUT' ? event.contentHash : undefined,
      ...(event.cursor !== undefined && { cursor: event.cursor }),
    });
  }
  return { changes: [...latest.values()], ignored };
}

/** Stable: events with cursors by cursor, the rest in their original order. */
function inCursorOrder(events: readonly FeedEvent[]): readonly FeedEvent[] {
  if (!events.every((event) => event.cursor !== undefined)) return events;
  return events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => compareCursors(a.event.cursor as string, b.event.cursor as string) || a.index - b.index)
    .map(({ event }) => event);
}
