import { existsSync } from 'node:fs';
import { parsePubky } from '../identity/index.js';
import { KeyLayout, listKeys } from '../store/index.js';
import { CliError } from './output.js';

/** Added keys that are not removed (no `state/inactive` marker). */
export async function activeKeys(dataDir: string): Promise<string[]> {
  return (await listKeys(dataDir)).filter((z32) => !existsSync(new KeyLayout(dataDir, z32).inactiveMarker));
}

/** The canonical key of an added pubky, or a clear error. */
export function requireAddedKey(dataDir: string, text: string): KeyLayout {
  const layout = new KeyLayout(dataDir, parsePubky(text).z32);
  if (!existsSync(layout.keyDir)) {
    throw new CliError(
      'KEY_NOT_ADDED',
      `${layout.z32} is not backed up here; add it with \`pubky-backup add\`.`,
    );
  }
  return layout;
}

/** Which keys a command works on: the named ones (each must be added), or every active key. */
export async function selectKeys(dataDir: string, texts: string[]): Promise<string[]> {
  if (texts.length > 0) return texts.map((text) => requireAddedKey(dataDir, text).z32);
  return activeKeys(dataDir);
}
