import { join } from 'node:path';
import { acquireLock, type LockOwner } from '../util/dir-lock.js';

/**
 * A short, cross-process lock on a key's data (`state/write.lock/`): sync holds it while it applies
 * a batch, a snapshot while it freezes the file list, a restore while it writes. A lock whose owner
 * is gone, unreadable or not the process that wrote it is taken over (see `util/dir-lock.ts`), so
 * it never wedges; `onWait` is told once who holds it, so a waiting command can say what it waits
 * for. Resolves to the release function.
 */
export async function acquireWriteLock(
  stateDir: string,
  options: {
    timeoutMs?: number;
    signal?: AbortSignal;
    command?: string;
    onWait?: (owner: LockOwner | undefined) => void;
  } = {},
): Promise<() => Promise<void>> {
  const lock = await acquireLock(join(stateDir, 'write.lock'), options.command ?? 'write', options);
  return () => lock.release();
}
