import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyLayout } from '../store/index.js';

type JournalLine =
  | { started: string; target: string; source: string }
  | { uploaded: string; blake3: string }
  | { finished: string; uploaded: number; failed: number };

const FLUSH_EVERY = 100;

/**
 * `keys/<z32>/state/restore/<target>.jsonl`: what a restore to one homeserver has uploaded, so a
 * rerun after a crash can say how much an earlier run already did. It is a record, not the
 * guarantee: whether a file is already on the target is always asked of the target (HEAD and its
 * ETag), so losing the last lines in a crash costs nothing. Holds paths and hashes, no secret.
 */
export class RestoreJournal {
  private buffered: string[] = [];
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    /** Files uploaded by earlier, unfinished runs to this target. */
    readonly previous: number,
  ) {}

  /** Opens the journal for `targetUrl`: continued after an unfinished run, started afresh otherwise. */
  static async open(layout: KeyLayout, targetUrl: string, source: string): Promise<RestoreJournal> {
    const dir = join(layout.stateDir, 'restore');
    const file = join(dir, `${targetUrl.replace(/[^A-Za-z0-9.-]+/g, '_')}.jsonl`);
    await mkdir(dir, { recursive: true });
    const lines = (await readFile(file, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        try {
          return JSON.parse(line) as JournalLine;
        } catch {
          return undefined; // a torn last line
        }
      });
    const unfinished = lines.length > 0 && !lines.some((line) => line && 'finished' in line);
    const previous = unfinished ? lines.filter((line) => line && 'uploaded' in line).length : 0;
    const start: JournalLine = { started: new Date().toISOString(), target: targetUrl, source };
    if (unfinished) await appendFile(file, `${JSON.stringify(start)}\n`);
    else await writeFile(file, `${JSON.stringify(start)}\n`);
    return new RestoreJournal(file, previous);
  }

  /** Notes an uploaded file; written in batches. */
  uploaded(path: string, blake3: string): void {
    this.buffered.push(JSON.stringify({ uploaded: path, blake3 } satisfies JournalLine));
    if (this.buffered.length >= FLUSH_EVERY) void this.flush().catch(() => {});
  }

  flush(): Promise<void> {
    const lines = this.buffered.splice(0);
    if (lines.length === 0) return this.writing;
    this.writing = this.writing.then(() => appendFile(this.file, `${lines.join('\n')}\n`));
    return this.writing;
  }

  /** Marks the restore complete: the next one to this target starts a new journal. */
  async finish(uploaded: number, failed: number): Promise<void> {
    await this.flush();
    const line: JournalLine = { finished: new Date().toISOString(), uploaded, failed };
    await appendFile(this.file, `${JSON.stringify(line)}\n`);
  }
}
