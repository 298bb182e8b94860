import { type FeedEvent, type HomeserverClient, isMissingRoute } from '../homeserver/index.js';

export interface EventBatch {
  events: FeedEvent[];
  /** The cursor to persist once these events are applied. */
  cursor: string;
  /** True when the batch reached the head of the feed. */
  complete: boolean;
}

/**
 * Reads a user's events in bounded batches: from `/events-stream` (per user, with content_hash)
 * when the homeserver has it, else from the homeserver-wide `/events/` feed filtered by owner.
 */
export class FeedReader {
  /** Shared per homeserver: once the stream route is known missing, don't ask again. */
  private static readonly legacyHomeservers = new WeakSet<HomeserverClient>();

  constructor(
    private readonly client: HomeserverClient,
    private readonly user: string,
    private readonly batchSize = 1000,
  ) {}

  async next(cursor: string, signal?: AbortSignal): Promise<EventBatch> {
    if (!FeedReader.legacyHomeservers.has(this.client)) {
      try {
        return await this.fromStream(cursor, signal);
      } catch (error) {
        if (!isMissingRoute(error)) throw error;
        FeedReader.legacyHomeservers.add(this.client);
      }
    }
    return this.fromLegacyFeed(cursor, signal);
  }

  /** The newest cursor of the user's feed (where to continue after a listing-based reconcile). */
  async head(signal?: AbortSignal): Promise<string> {
    let cursor = '0';
    for (;;) {
      const batch = await this.next(cursor, signal);
      cursor = batch.cursor;
      if (batch.complete) return cursor;
    }
  }

  private async fromStream(cursor: string, signal?: AbortSignal): Promise<EventBatch> {
    const events: FeedEvent[] = [];
    let last = cursor;
    const stream = this.client.eventsStream({
      users: [{ user: this.user, cursor }],
      limit: this.batchSize,
      signal,
    });
    for await (const event of stream) {
      events.push(event);
      if (event.cursor !== undefined) last = event.cursor;
    }
    // The stream ends quietly on abort: a cut-short batch must not look like the head.
    signal?.throwIfAborted();
    return { events, cursor: last, complete: events.length < this.batchSize };
  }

  private async fromLegacyFeed(cursor: string, signal?: AbortSignal): Promise<EventBatch> {
    const page = await this.client.eventsPage(cursor, this.batchSize, signal);
    return {
      events: page.events.filter((event) => event.owner === this.user),
      cursor: page.cursor ?? cursor,
      complete: page.events.length < this.batchSize,
    };
  }
}
