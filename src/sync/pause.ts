import { readFile, rm } from 'node:fs/promises';
import type { KeyLayout } from '../store/index.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** `state/paused.json`: a key stopped by the mass-delete guard, waiting for the user. */
export interface PausedState {
  reason: 'mass-delete';
  cursor: string;
  deletes: number;
  files: number;
  accepted: boolean;
}

export async function readPaused(layout: KeyLayout): Promise<PausedState | undefined> {
  try {
    return JSON.parse(await readFile(layout.pausedFile, 'utf8')) as PausedState;
  } catch {
    return undefined;
  }
}

export function writePaused(layout: KeyLayout, paused: PausedState): Promise<void> {
  return writeFileAtomic(layout.pausedFile, JSON.stringify(paused));
}

export function clearPaused(layout: KeyLayout): Promise<void> {
  return rm(layout.pausedFile, { force: true });
}

/** Lets the next sync apply the deletes (`resume --accept-deletes`); false if not paused. */
export async function acceptDeletes(layout: KeyLayout): Promise<PausedState | undefined> {
  const paused = await readPaused(layout);
  if (!paused) return undefined;
  await writePaused(layout, { ...paused, accepted: true });
  return paused;
}

export function pausedReason(paused: Pick<PausedState, 'deletes' | 'files'>): string {
  return (
    `the homeserver deleted ${paused.deletes} of ${paused.files} files at once; sync is paused to protect your ` +
    'backup. Check the homeserver, then run `pubky-backup resume <pubky> --accept-deletes` to apply the deletes.'
  );
}
