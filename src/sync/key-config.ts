import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-file.js';

/** `keys/<z32>/state/key.json`: how this key is synced. */
const KeyConfigSchema = z.object({
  pubky: z.string(),
  addedAt: z.string(),
  /** Pinned homeserver URL (`add --homeserver`): no PKDNS lookups for this key. */
  homeserverUrl: z.string().optional(),
  /** The homeserver the cursor belongs to (key or URL); a different one means the user moved. */
  syncedFrom: z.string().optional(),
});

export type KeyConfig = z.infer<typeof KeyConfigSchema>;

export async function readKeyConfig(file: string, pubky: string): Promise<KeyConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    // A folder from the original app has no key.json: it is a key with default settings.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { pubky, addedAt: new Date(0).toISOString() };
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message})`);
  }
  const parsed = KeyConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file} is invalid: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function writeKeyConfig(file: string, config: KeyConfig): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
}
