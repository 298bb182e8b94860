import { EventEmitter } from 'node:events';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PathIndex } from './path-index.js';

export interface FileMeta {
  size: number;
  /** base64 (standard, padded) BLAKE3 of the content: the ETag and the feed's content_hash. */
  hash: string;
  contentType: string;
  lastModifiedMs: number;
}

export interface FeedEvent {
  id: number;
  type: 'PUT' | 'DEL';
  /** Whose feed (and `/events-stream?user=`) the event belongs to. */
  owner: string;
  /** The line's URI, normally `pubky://<owner><path>`; fault injection may put anything here. */
  uri: string;
  path: string;
  contentHash?: string;
  /** When the event was recorded, µs since the epoch, unique and rising (legacy feed cursors). */
  createdAtMicros?: number;
}

export interface UserRecord {
  z32: string;
  disabled: boolean;
}

type JournalEntry =
  | { op: 'user'; user: UserRecord }
  | { op: 'event'; event: FeedEvent; meta?: FileMeta; applies: boolean }
  /** A change to a stored file with no feed event (`meta: null` removes it): test tampering. */
  | { op: 'file'; owner: string; path: string; meta: FileMeta | null };

/**
 * Users, file metadata and the events feed. In folder mode every change is appended to
 * `journal.jsonl` before it is visible, and replayed on start.
 */
export class HomeserverState extends EventEmitter<{ event: [FeedEvent] }> {
  readonly users = new Map<string, UserRecord>();
  readonly events: FeedEvent[] = [];
  private readonly files = new Map<string, PathIndex<FileMeta>>();
  private readonly eventsByOwner = new Map<string, FeedEvent[]>();
  private readonly journal: string | undefined;
  private lastCreatedAtMicros = 0;

  constructor(dataDir?: string) {
    super();
    this.setMaxListeners(0);
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      this.journal = join(dataDir, 'journal.jsonl');
      if (existsSync(this.journal)) this.replay(readFileSync(this.journal, 'utf8'));
    }
  }

  filesOf(owner: string): PathIndex<FileMeta> {
    let index = this.files.get(owner);
    if (!index) {
      index = new PathIndex();
      this.files.set(owner, index);
    }
    return index;
  }

  eventsOf(owner: string): readonly FeedEvent[] {
    return this.eventsByOwner.get(owner) ?? [];
  }

  get headCursor(): number {
    return this.events.length;
  }

  /** Events with id > cursor (ids are 1, 2, 3… so the array index is the cursor). */
  eventsAfter(cursor: number, limit: number): FeedEvent[] {
    return this.events.slice(cursor, cursor + limit);
  }

  setUser(user: UserRecord): void {
    this.record({ op: 'user', user });
    this.users.set(user.z32, user);
  }

  putFile(owner: string, path: string, meta: FileMeta): FeedEvent {
    return this.appendEvent(
      { type: 'PUT', owner, path, uri: `pubky://${owner}${path}`, contentHash: meta.hash },
      meta,
    );
  }

  deleteFile(owner: string, path: string): FeedEvent {
    return this.appendEvent({ type: 'DEL', owner, path, uri: `pubky://${owner}${path}` });
  }

  /**
   * Changes a stored file's metadata (or removes the file with `null`) without a feed event:
   * what a homeserver whose storage changed behind the feed's back looks like.
   */
  setFileSilently(owner: string, path: string, meta: FileMeta | null): void {
    this.record({ op: 'file', owner, path, meta });
    this.applyFile(owner, path, meta);
  }

  /** The event whose `createdAtMicros` is exactly this (a legacy timestamp cursor), if any. */
  eventCreatedAt(micros: number): FeedEvent | undefined {
    return this.events.find((event) => event.createdAtMicros === micros);
  }

  /** Adds a feed line without touching files: fault injection (foreign owners, escapes, lost files). */
  injectEvent(event: Omit<FeedEvent, 'id'>): FeedEvent {
    return this.appendEvent(event, undefined, false);
  }

  private appendEvent(partial: Omit<FeedEvent, 'id'>, meta?: FileMeta, applies = true): FeedEvent {
    const createdAtMicros = Math.max(Date.now() * 1000, this.lastCreatedAtMicros + 1);
    const event: FeedEvent = { id: this.events.length + 1, ...partial, createdAtMicros };
    this.record({ op: 'event', event, meta, applies });
    this.apply(event, meta, applies);
    this.emit('event', event);
    return event;
  }

  private applyFile(owner: string, path: string, meta: FileMeta | null): void {
    if (meta) this.filesOf(owner).set(path, meta);
    else this.filesOf(owner).delete(path);
  }

  private apply(event: FeedEvent, meta: FileMeta | undefined, applies: boolean): void {
    this.events.push(event);
    this.lastCreatedAtMicros = Math.max(this.lastCreatedAtMicros, event.createdAtMicros ?? 0);
    let list = this.eventsByOwner.get(event.owner);
    if (!list) {
      list = [];
      this.eventsByOwner.set(event.owner, list);
    }
    list.push(event);
    if (!applies) return;
    if (event.type === 'PUT' && meta) this.filesOf(event.owner).set(event.path, meta);
    if (event.type === 'DEL') this.filesOf(event.owner).delete(event.path);
  }

  private record(entry: JournalEntry): void {
    if (this.journal) appendFileSync(this.journal, `${JSON.stringify(entry)}\n`);
  }

  private replay(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line);
      } catch {
        break; // a torn last line from a crash: everything before it is intact
      }
      if (entry.op === 'user') this.users.set(entry.user.z32, entry.user);
      else if (entry.op === 'file') this.applyFile(entry.owner, entry.path, entry.meta);
      else this.apply(entry.event, entry.meta, entry.applies);
    }
  }
}
