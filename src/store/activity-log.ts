import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One line of `state/activity.log`. */
export interface ActivityEntry {
  type: string;
  message: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  [key: string]: unknown;
}

const TAIL_BLOCK_BYTES = 64 * 1024;

/** Appends `{…entry, timestamp}` as one JSON line, creating the folders. */
export async function appendActivity(
  file: string,
  entry: { type: string; message: string; [key: string]: unknown },
  now: Date = new Date(),
): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify({ ...entry, timestamp: now.toISOString() })}\n`);
}

/** The log's entries, oldest first; with `last`, only the last ones (read from the end of the file). */
export async function readActivity(file: string, options: { last?: number } = {}): Promise<ActivityEntry[]> {
  const { last } = options;
  if (last !== undefined && last <= 0) return [];
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const { size } = await handle.stat();
    // Read blocks from the end until they hold enough lines (or the whole file).
    const blocks: Buffer[] = [];
    let start = size;
    let newlines = 0;
    while (start > 0 && (last === undefined || newlines <= last)) {
      const length = Math.min(TAIL_BLOCK_BYTES, start);
      start -= length;
      const block = Buffer.alloc(length);
      await handle.read(block, 0, length, start);
      blocks.unshift(block);
      for (const byte of block) if (byte === 0x0a) newlines++;
    }
    const lines = Buffer.concat(blocks).toString('utf8').split('\n');
    if (start > 0) lines.shift(); // began mid-line
    const entries = lines.flatMap((line) => parseLine(line));
    return last === undefined ? entries : entries.slice(-last);
  } finally {
    await handle.close();
  }
}

/** A torn or foreign line is skipped: the log is informational. */
function parseLine(line: string): ActivityEntry[] {
  if (line.trim() === '') return [];
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && typeof (value as ActivityEntry).type === 'string') {
      return [value as ActivityEntry];
    }
  } catch {
    // skipped
  }
  return [];
}
