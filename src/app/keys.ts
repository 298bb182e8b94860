import { existsSync } from 'node:fs';
import { BackupError } from '../errors.js';
import { parsePubky } from '../identity/index.js';
import { isInactive, KeyLayout, listKeys } from '../store/index.js';

/** Added keys that are not removed (no `state/inactive` marker), sorted. */
export async function activeKeys(dataDir: string): Promise<string[]> {
  return (await listKeys(dataDir)).filter((z32) => !isInactive(new KeyLayout(dataDir, z32)));
}

/**
 * The layout of an added pubky given in any pasted form. Throws `PubkyParseError` for text that is
 * no pubky, `KEY_NOT_ADDED` (not-found) for a pubky not backed up here.
 */
export function requireAddedKey(dataDir: string, text: string): KeyLayout {
  const layout = new KeyLayout(dataDir, parsePubky(text).z32);
  if (!existsSync(layout.keyDir)) {
    throw new BackupError(
      'KEY_NOT_ADDED',
      `${layout.z32} is not backed up here; add it first.`,
      'not-found',
      {
        pubky: layout.z32,
      },
    );
  }
  return layout;
}

/** Which keys a use-case works on: the named ones (each must be added), or every active key. */
export async function selectKeys(dataDir: string, texts: readonly string[]): Promise<string[]> {
  if (texts.length > 0) return texts.map((text) => requireAddedKey(dataDir, text).z32);
  return activeKeys(dataDir);
}
