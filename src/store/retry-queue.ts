import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BackupError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** A file whose download failed; kept until it is backed up (sync rule 5). */
export interface RetryItem {
  /** Homeserver path, `/pub/…`. */
  path: string;
  attempts: number;
  nextAttemptAtMs: number;
  lastError: string;
  /** The event's content_hash, when it had one. */
  contentHash?: string;
  /** The homeserver answered 404 (a DEL may follow). */
  missing?: boolean;
}

/** A retry file that cannot be read. It is never overwritten: it lists files the cursor already passed. */
export class RetryFileError extends BackupError {
  override readonly name = 'RetryFileError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super('RETRY_FILE_UNREADABLE', message, 'invalid', { file });
  }
}

const FORMAT_VERSION = 1;

/** The pending-retry queue of one key, saved as one JSON file written atomically. */
export class RetryQueue {
  private dirty = false;

  private constructor(
    private readonly file: string,
    private readonly items: Map<string, RetryItem>,
  ) {}

  static async open(file: string): Promise<RetryQueue> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new RetryQueue(file, new Map());
      throw error;
    }
    const items = new Map<string, RetryItem>();
    for (const item of parseItems(file, text)) items.set(item.path, item);
    return new RetryQueue(file, items);
  }

  get size(): number {
    return this.items.size;
  }

  /** Adds or replaces the item for `item.path`. */
  upsert(item: RetryItem): void {
    this.items.set(item.path, { ...item });
    this.dirty = true;
  }

  remove(path: string): boolean {
    const removed = this.items.delete(path);
    if (removed) this.dirty = true;
    return removed;
  }

  get(path: string): RetryItem | undefined {
    const item = this.items.get(path);
    return item && { ...item };
  }

  /** Items whose next attempt is due at `nowMs`, earliest first. */
  due(nowMs: number): RetryItem[] {
    return this.all()
      .filter((item) => item.nextAttemptAtMs <= nowMs)
      .sort((a, b) => a.nextAttemptAtMs - b.nextAttemptAtMs);
  }

  all(): RetryItem[] {
    return [...this.items.values()].map((item) => ({ ...item }));
  }

  /** Writes the queue atomically; does nothing when nothing changed since the last save. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const body = { version: FORMAT_VERSION, items: [...this.items.values()] };
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, `${JSON.stringify(body, null, 2)}\n`);
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }
}

function parseItems(file: string, text: string): RetryItem[] {
  const fail = (why: string) =>
    new RetryFileError(
      file,
      `The retry file ${file} cannot be read (${why}); fix or move it, then sync again.`,
    );
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw fail('not valid JSON');
  }
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw fail('no "items" list');
  return items.map((item, i) => {
    if (!isRetryItem(item)) throw fail(`item ${i} is malformed`);
    return item;
  });
}

function isRetryItem(value: unknown): value is RetryItem {
  if (typeof value !== 'object' || value === null) return false;
  const item = value as Record<string, unknown>;
  return (
    typeof item.path === 'string' &&
    typeof item.attempts === 'number' &&
    typeof item.nextAttemptAtMs === 'number' &&
    typeof item.lastError === 'string' &&
    (item.contentHash === undefined || typeof item.contentHash === 'string') &&
    (item.missing === undefined || typeof item.missing === 'boolean')
  );
}
