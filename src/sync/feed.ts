import {
  compareCursors,
  type FeedEntry,
  type FeedEvent,
  type HomeserverClient,
  HomeserverError,
  isEventId,
  isMissingRoute,
  type SkippedEntry,
} from '../homeserver/index.js';
import type { CursorAnchor } from '../store/index.js';
import { withFeedRetries } from './retry-policy.js';

/** The feed entry a persisted cursor stands on: how a rewritten feed is recognised later. */
export type FeedAnchor = CursorAnchor;

export interface EventBatch {
  /** This user's events, in feed order (by cursor where the feed gives one). */
  events: FeedEvent[];
  /** Entries that could not be read; reported, never fatal. */
  skipped: SkippedEntry[];
  /** The cursor to persist once these events are applied. */
  cursor: string;
  /** True when the batch reached the head of the feed. */
  complete: boolean;
  /** The entry `cursor` stands on, when it was a readable event. */
  anchor?: FeedAnchor;
  /** The homeserver does not know this user (yet): nothing to back up, not an error. */
  waiting?: boolean;
}

/** Whether the homeserver's feed still contains the history the backup's cursor stands on. */
export type Continuity = { ok: true } | { ok: false; reason: string };

/**
 * Reads a user's events in bounded batches: from `/events-stream` (per user, with content_hash)
 * when the homeserver has it, else from the homeserver-wide `/events/` feed filtered by owner.
 * Transient feed failures are retried with backoff (`withFeedRetries`); a feed that hands out
 * events without moving its cursor forward is an error (`FEED_STALLED`), never a loop.
 */
export class FeedReader {
  /** Shared per homeserver: once the stream route is known missing, don't ask again. */
  private static readonly legacyHomeservers = new WeakSet<HomeserverClient>();

  constructor(
    private readonly client: HomeserverClient,
    private readonly user: string,
    private readonly batchSize = 1000,
    private readonly onRetry?: (error: HomeserverError, waitMs: number) => void,
  ) {}

  /** True when this homeserver only has the `/events/` feed (before v0.6). */
  get legacy(): boolean {
    return FeedReader.legacyHomeservers.has(this.client);
  }

  async next(cursor: string, signal?: AbortSignal): Promise<EventBatch> {
    const batch = await this.retrying(async () => {
      if (!this.legacy) {
        try {
          return await this.fromStream(cursor, signal);
        } catch (error) {
          if (!isMissingRoute(error)) throw error;
          FeedReader.legacyHomeservers.add(this.client);
        }
      }
      return this.fromLegacyFeed(cursor, signal);
    }, signal);
    return batch;
  }

  /**
   * The newest cursor of the user's feed, or undefined when it has no events. One request on
   * homeservers with `/events-stream` (newest first, limit 1); the whole feed on older ones.
   */
  async head(signal?: AbortSignal): Promise<string | undefined> {
    if (!this.legacy) {
      try {
        // No cursor with `reverse`: from the newest event (a cursor would mean "older than it").
        const newest = await this.retrying(() => this.readStream(undefined, 1, signal, true), signal);
        const cursor = newest.find((entry) => entry.cursor !== undefined)?.cursor;
        return cursor;
      } catch (error) {
        if (isUnknownUser(error)) return undefined;
        if (!isMissingRoute(error)) throw error;
        FeedReader.legacyHomeservers.add(this.client);
      }
    }
    let cursor = '0';
    let seen = false;
    for (;;) {
      const batch = await this.next(cursor, signal);
      if (batch.cursor !== cursor) seen = true;
      cursor = batch.cursor;
      if (batch.complete) return seen ? cursor : undefined;
    }
  }

  /**
   * Does the feed still hold the history `cursor` stands on? A homeserver restored from an older
   * copy, or reset, hands out ids again from below: then the event at `anchor.cursor` is gone or
   * different, or the feed's head is below the cursor. Checked with one small request; where
   * nothing can be checked cheaply (an old homeserver and no anchor) the answer is ok.
   */
  async continuity(
    cursor: string,
    anchor: FeedAnchor | undefined,
    signal?: AbortSignal,
  ): Promise<Continuity> {
    if (cursor === '0' || !isEventId(cursor)) return { ok: true };
    if (anchor && anchor.cursor === cursor) {
      const previous = (BigInt(cursor) - 1n).toString();
      const found = await this.entryAt(previous, signal);
      if (found === 'unknown') return { ok: true }; // cannot tell
      if (found && found.type !== 'SKIPPED' && found.cursor === cursor) {
        if (found.type === anchor.type && found.uri === anchor.uri) return { ok: true };
      }
      if (found?.cursor === cursor && found.type === 'SKIPPED') return { ok: true }; // cannot tell
      const what = found
        ? `event ${found.cursor ?? '?'} is now ${describe(found)}`
        : 'the feed has no event there any more';
      return {
        ok: false,
        reason: `the event the backup's cursor ${cursor} stands on (${anchor.type} ${anchor.uri}) is gone: ${what}`,
      };
    }
    if (this.legacy) return { ok: true };
    const head = await this.head(signal);
    if (head === undefined)
      return { ok: false, reason: `the feed is empty, but the backup's cursor is ${cursor}` };
    const order = compareCursors(head, cursor);
    if (order !== undefined && order < 0) {
      return { ok: false, reason: `the feed's newest event is ${head}, below the backup's cursor ${cursor}` };
    }
    return { ok: true };
  }

  /**
   * The first feed entry after `cursor`, with its cursor (undefined when there is none). A
   * homeserver that ignores `limit=1` gives an answer that cannot anchor anything: 'unknown'.
   */
  private async entryAt(
    cursor: string,
    signal?: AbortSignal,
  ): Promise<(FeedEntry & { cursor?: string }) | undefined | 'unknown'> {
    if (!this.legacy) {
      try {
        const entries = await this.retrying(() => this.readStream(cursor, 1, signal), signal);
        return entries.length > 1 ? 'unknown' : entries[0];
      } catch (error) {
        if (isUnknownUser(error)) return undefined;
        if (!isMissingRoute(error)) throw error;
        FeedReader.legacyHomeservers.add(this.client);
      }
    }
    const page = await this.retrying(() => this.client.eventsPage(cursor, 1, signal), signal);
    if (page.events.length + page.skipped.length > 1) return 'unknown';
    const first = page.events[0] ?? page.skipped[0];
    return first && page.cursor !== undefined ? { ...first, cursor: page.cursor } : first;
  }

  private async fromStream(cursor: string, signal?: AbortSignal): Promise<EventBatch> {
    let entries: FeedEntry[];
    try {
      entries = await this.readStream(cursor, this.batchSize, signal);
    } catch (error) {
      if (isUnknownUser(error)) return { events: [], skipped: [], cursor, complete: true, waiting: true };
      throw error;
    }
    // Lines of one page may come out of order: persist the highest cursor (planBatch applies by cursor).
    let last = cursor;
    let anchor: FeedAnchor | undefined;
    for (const entry of entries) {
      if (entry.cursor === undefined) continue;
      const order = compareCursors(entry.cursor, last);
      if (order === undefined || order > 0) {
        last = entry.cursor;
        anchor =
          entry.type === 'SKIPPED' ? undefined : { cursor: entry.cursor, type: entry.type, uri: entry.uri };
      }
    }
    const events = entries.filter((entry): entry is FeedEvent => entry.type !== 'SKIPPED');
    const skipped = entries.filter((entry): entry is SkippedEntry => entry.type === 'SKIPPED');
    assertProgress(
      this.client,
      `GET /events-stream?user=${this.user}:${cursor}`,
      cursor,
      last,
      entries.length,
    );
    return { events, skipped, cursor: last, complete: entries.length < this.batchSize, anchor };
  }

  private async readStream(cursor: string | undefined, limit: number, signal?: AbortSignal, reverse = false) {
    const entries: FeedEntry[] = [];
    const stream = this.client.eventsStream({ users: [{ user: this.user, cursor }], limit, reverse, signal });
    for await (const entry of stream) entries.push(entry);
    // The stream ends quietly on abort: a cut-short batch must not look like the head.
    signal?.throwIfAborted();
    return entries;
  }

  private async fromLegacyFeed(cursor: string, signal?: AbortSignal): Promise<EventBatch> {
    const page = await this.client.eventsPage(cursor, this.batchSize, signal);
    const lines = page.events.length + page.skipped.length;
    const next = page.cursor ?? cursor;
    assertProgress(this.client, `GET /events/?cursor=${cursor}`, cursor, next, lines);
    const lastEvent = page.events.at(-1);
    return {
      events: page.events.filter((event) => event.owner === this.user),
      skipped: page.skipped,
      cursor: next,
      complete: lines < this.batchSize,
      // The page's last line is the event its cursor line names (when it was readable).
      anchor:
        lastEvent && page.cursor !== undefined && page.skipped.length === 0
          ? { cursor: page.cursor, type: lastEvent.type, uri: lastEvent.uri }
          : undefined,
    };
  }

  private retrying<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withFeedRetries(task, { signal, onRetry: this.onRetry });
  }
}

/** The stream's 404 for a user the homeserver does not know (not a missing route). */
function isUnknownUser(error: unknown): boolean {
  return error instanceof HomeserverError && error.kind === 'not-found' && !isMissingRoute(error);
}

/**
 * A page with entries must move the cursor forward; otherwise the next request would ask for the
 * same page again, forever. Cursors of different styles cannot be compared: that counts as a move.
 */
function assertProgress(
  client: HomeserverClient,
  request: string,
  from: string,
  to: string,
  entries: number,
): void {
  if (entries === 0) return;
  const order = compareCursors(to, from);
  if (order === undefined || order > 0) return;
  throw new HomeserverError(
    'protocol',
    client.baseUrl,
    `The events feed of homeserver ${client.baseUrl} is stuck: ${request} answered ${entries} entries but its ` +
      `cursor did not move past ${from} (it said ${to}). Nothing was skipped; the backup of this pubky waits ` +
      'until the homeserver is fixed.',
    { feedStalled: true },
  );
}

function describe(entry: FeedEntry): string {
  return entry.type === 'SKIPPED' ? `an unreadable entry` : `${entry.type} ${entry.uri}`;
}
