import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isEventId, isCursor as isFeedCursor } from '../homeserver/index.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** What `state/cursor` says: the cursor to continue from, and why it is `'0'` when it could not be read. */
export interface CursorState {
  /**
   * A decimal u64 event id, or a 13-character timestamp cursor (homeservers before v0.6 hand those
   * out; a newer one that cannot map it answers 400 and the sync starts over). `'0'` = from the
   * beginning of the feed.
   */
  cursor: string;
  /**
   * Set when the file held something that is no cursor at all (damage): the backup starts over
   * from the beginning of the feed, which only compares files it already has (replays are
   * harmless), and the caller logs this text.
   */
  problem?: string;
}

/**
 * Reads the last applied event cursor (the original app's format: the cursor text, optional
 * trailing newline). Missing, empty or blank = `'0'`. Anything unreadable also gives `'0'` with a
 * `problem`, as the original app does; only I/O errors (permissions…) throw.
 */
export async function readCursorState(file: string): Promise<CursorState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { cursor: '0' };
    throw error;
  }
  const value = text.trim();
  if (value === '') return { cursor: '0' };
  if (isEventId(value)) return { cursor: BigInt(value).toString() };
  if (isFeedCursor(value)) return { cursor: value };
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  return {
    cursor: '0',
    problem:
      `the cursor file ${file} held ${shown}, which is not a cursor (damage?); ` +
      'backing up again from the beginning of the feed — files already in the backup are compared, not downloaded again',
  };
}

/** The cursor of `readCursorState` alone (for readers that only show it). */
export async function readCursor(file: string): Promise<string> {
  return (await readCursorState(file)).cursor;
}

/** Replaces the cursor atomically (a crash leaves the old or the new value). */
export async function writeCursor(file: string, cursor: string): Promise<void> {
  if (!isFeedCursor(cursor)) {
    throw new RangeError(`A cursor is a decimal u64 or a timestamp cursor, got ${JSON.stringify(cursor)}.`);
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, isEventId(cursor) ? BigInt(cursor).toString() : cursor);
}

/** The feed entry the persisted cursor stands on (`state/cursor-anchor.json`): see `FeedReader.continuity`. */
export interface CursorAnchor {
  cursor: string;
  type: 'PUT' | 'DEL';
  uri: string;
}

/** The anchor, or undefined when there is none or it cannot be read (then it is simply not used). */
export async function readAnchor(file: string): Promise<CursorAnchor | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<CursorAnchor>;
    if (
      typeof value.cursor === 'string' &&
      (value.type === 'PUT' || value.type === 'DEL') &&
      typeof value.uri === 'string'
    ) {
      return { cursor: value.cursor, type: value.type, uri: value.uri };
    }
  } catch {
    // missing or damaged: the cursor is then checked against the feed's head instead
  }
  return undefined;
}

/** Replaces the anchor atomically; `undefined` removes its content (an empty object). */
export async function writeAnchor(file: string, anchor: CursorAnchor | undefined): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(anchor ?? {})}\n`);
}
