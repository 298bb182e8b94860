import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';

const U64_MAX = 2n ** 64n - 1n;

/** A cursor file that is not a decimal u64. It is left as it is for the user to inspect. */
export class CursorFileError extends Error {
  override readonly name = 'CursorFileError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** The last applied event cursor; `'0'` (the beginning of the feed) when the file does not exist. */
export async function readCursor(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '0';
    throw error;
  }
  const digits = text.replace(/[\s]+$/, '');
  if (!/^\d+$/.test(digits) || BigInt(digits) > U64_MAX) {
    const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
    throw new CursorFileError(
      file,
      `The cursor file ${file} is corrupt: expected a decimal number from 0 to ${U64_MAX}, found ${shown}. ` +
        'Fix it, or delete it to sync this key again from the start of its feed.',
    );
  }
  return BigInt(digits).toString();
}

/** Replaces the cursor atomically (a crash leaves the old or the new value). */
export async function writeCursor(file: string, cursor: string): Promise<void> {
  if (!isCursor(cursor)) {
    throw new RangeError(`A cursor is a decimal number from 0 to ${U64_MAX}, got ${JSON.stringify(cursor)}.`);
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, BigInt(cursor).toString());
}

/** True for a decimal u64 text such as the feed's `cursor: <id>`. */
export function isCursor(text: string): boolean {
  return /^\d+$/.test(text) && BigInt(text) <= U64_MAX;
}
