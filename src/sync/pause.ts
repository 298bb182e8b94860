import type { PausedState } from '../store/index.js';

/**
 * Why a key is paused, for a person. Says what to do in words; the faces add their own way to do
 * it (a CLI command, a dashboard button).
 */
export function pausedReason(paused: Pick<PausedState, 'reason' | 'deletes' | 'files'>): string {
  if (paused.reason === 'user') return 'paused by you; resume it to continue the backup';
  return (
    `the homeserver deleted ${paused.deletes} of ${paused.files} files at once; sync is paused to protect your ` +
    'backup. Check the homeserver, then resume this pubky accepting the deletes to apply them.'
  );
}
