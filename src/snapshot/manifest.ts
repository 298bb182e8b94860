import { z } from 'zod';

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
