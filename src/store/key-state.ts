import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { BackupError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { KeyLayout } from './layout.js';

/**
 * The small per-key state files, in one place: `state/key.json` (how the key is synced),
 * `state/paused.json` (a pause by the user or by the mass-delete guard), `state/inactive` (removed,
 * data kept) and `state/homeserver.json` (the last PKDNS answer, written by the resolver).
 */

const KeyConfigSchema = z.object({
  pubky: z.string(),
  addedAt: z.string(),
  /** Pinned homeserver URL (`add --homeserver`): no PKDNS lookups for this key. */
  homeserverUrl: z.string().optional(),
  /** The homeserver the cursor belongs to (key or URL); a different one means the user moved. */
  syncedFrom: z.string().optional(),
});

/** `state/key.json`. */
export type KeyConfig = z.infer<typeof KeyConfigSchema>;

/**
 * Reads `state/key.json`. A folder from the original app has none: a key with default settings.
 * Throws `BackupError` `KEY_STATE_INVALID` naming the file when it is not valid.
 */
export async function readKeyConfig(file: string, pubky: string): Promise<KeyConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { pubky, addedAt: new Date(0).toISOString() };
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(file, `is not valid JSON (${(error as Error).message})`);
  }
  const parsed = KeyConfigSchema.safeParse(raw);
  if (!parsed.success) throw invalid(file, `is invalid: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function writeKeyConfig(file: string, config: KeyConfig): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`);
}

function invalid(file: string, what: string): BackupError {
  return new BackupError(
    'KEY_STATE_INVALID',
    `${file} ${what}; fix it or delete it to use the defaults.`,
    'invalid',
    {
      file,
    },
  );
}

/**
 * `state/paused.json`: a key that does not sync until resumed. `user`: paused on purpose;
 * `mass-delete`: stopped by the guard, waiting for the user to accept (`accepted`) the deletes.
 */
export interface PausedState {
  reason: 'mass-delete' | 'user';
  cursor: string;
  deletes: number;
  files: number;
  accepted: boolean;
  /** ISO 8601 UTC. */
  since?: string;
}

export async function readPaused(layout: KeyLayout): Promise<PausedState | undefined> {
  try {
    const value = JSON.parse(await readFile(layout.pausedFile, 'utf8')) as PausedState;
    return { ...value, reason: value.reason === 'user' ? 'user' : 'mass-delete' };
  } catch {
    return undefined;
  }
}

export function writePaused(layout: KeyLayout, paused: PausedState): Promise<void> {
  return writeFileAtomic(layout.pausedFile, JSON.stringify({ since: new Date().toISOString(), ...paused }));
}

export function clearPaused(layout: KeyLayout): Promise<void> {
  return rm(layout.pausedFile, { force: true });
}

/** Lets the next sync apply a paused mass delete; the pause it accepted, or undefined if none. */
export async function acceptDeletes(layout: KeyLayout): Promise<PausedState | undefined> {
  const paused = await readPaused(layout);
  if (paused?.reason !== 'mass-delete') return undefined;
  await writePaused(layout, { ...paused, accepted: true });
  return paused;
}

/** Whether the key was removed with its data kept (`state/inactive`). */
export function isInactive(layout: KeyLayout): boolean {
  return existsSync(layout.inactiveMarker);
}

export async function markInactive(layout: KeyLayout): Promise<void> {
  await writeFile(layout.inactiveMarker, `${new Date().toISOString()}\n`);
}

export async function markActive(layout: KeyLayout): Promise<void> {
  await rm(layout.inactiveMarker, { force: true });
}

/** `state/homeserver.json` as the resolver left it, or undefined (only informative). */
export async function readResolvedHomeserver(
  layout: KeyLayout,
): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(layout.homeserverFile, 'utf8'));
  } catch {
    return undefined;
  }
}
