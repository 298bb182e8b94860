import type { FeedEvent } from '../homeserver/index.js';
import { backupPathOf, type PathRejection } from '../store/index.js';

export interface PlannedChange {
  type: 'PUT' | 'DEL';
  path: string;
  storePath: string;
  contentHash?: string;
}

export interface IgnoredEvent {
  uri: string;
  reason: PathRejection;
  message: string;
}

export interface BatchPlan {
  /** One change per path: the last event for it wins (PUT, DEL, PUT → PUT). */
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
  for (const event of events) {
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
    });
  }
  return { changes: [...latest.values()], ignored };
}
