import { z } from 'zod';
import { OutputFile } from './output-file.js';

export const MANIFEST_NAME = 'manifest.json';

/** `manifest.json`, the last entry of every snapshot: what the archive holds and as of which cursor. */
export const ManifestSchema = z.object({
  format: z.literal('pubky-backup-snapshot'),
  version: z.literal(1),
  pubky: z.string(),
  homeserver: z.string().nullable(),
  cursor: z.string(),
  created_at: z.string(),
  tool: z.string(),
  files: z.array(z.object({ path: z.string(), size: z.number(), blake3: z.string() })),
  /**
   * Entries whose bytes, when archived, were not what the backup's index records (damaged on the
   * backup's disk, or never indexed): their `files` line holds the bytes archived; this says what
   * was expected. Absent when every entry matched.
   */
  damaged: z
    .array(
      z.object({
        path: z.string(),
        problem: z.enum(['damaged', 'not-indexed']),
        expected: z.object({ size: z.number(), blake3: z.string() }).nullable(),
      }),
    )
    .optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;

/** Homeserver path `/pub/a/b` ↔ zip entry name `pub/a/b`. */
export function entryNameOf(path: string): string {
  return path.replace(/^\/+/, '');
}

/**
 * The manifest's file list, spooled to a temp file while the archive is written (one JSON object
 * per line), so memory does not grow with the number of files; `json` then yields the whole
 * `manifest.json` text in chunks.
 */
export class ManifestSpool {
  private count = 0;

  private constructor(readonly file: OutputFile) {}

  static async create(path: string): Promise<ManifestSpool> {
    return new ManifestSpool(await OutputFile.create(path));
  }

  /** Adds one entry of `files` (wait for the promise when there is one). */
  addFile(path: string, size: number, blake3: string): Promise<void> | undefined {
    const line = `${this.count++ === 0 ? '\n  ' : ',\n  '}${JSON.stringify({ path, size, blake3 })}`;
    return this.file.append(Buffer.from(line));
  }

  /** The manifest as JSON text: `head`'s fields, `files` from the spool, then `damaged` if any. */
  async *json(head: Omit<Manifest, 'files' | 'damaged'>, damaged: NonNullable<Manifest['damaged']>) {
    await this.file.flush();
    const open = JSON.stringify(head, null, 1);
    yield Buffer.from(`${open.slice(0, open.lastIndexOf('\n}'))},\n "files": [`);
    yield* this.file.readBack(0, this.file.position);
    const tail = damaged.length > 0 ? `,\n "damaged": ${JSON.stringify(damaged, null, 1)}` : '';
    yield Buffer.from(`\n ]${tail}\n}\n`);
  }
}
