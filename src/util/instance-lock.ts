import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupError } from '../errors.js';
import { describeOwner, type LockOwner, tryLock } from './dir-lock.js';
import { sleep } from './sleep.js';

export class AlreadyRunningError extends BackupError {
  override readonly name = 'AlreadyRunningError';
  constructor(readonly owner: LockOwner | undefined) {
    super(
      'ALREADY_RUNNING',
      `pubky-backup is already running on this data folder (${describeOwner(owner)}). ` +
        'Stop it first, or use another data folder.',
      'conflict',
      { pid: owner?.pid ?? null, command: owner?.command ?? null },
    );
  }

  get pid(): number | undefined {
    return this.owner?.pid;
  }
}

/** 100 ms tries: past `dir-lock`'s 5 s after which an ownerless lock is stale. */
const OWNERLESS_WAIT_TRIES = 60;

export interface InstanceLock {
  release(): Promise<void>;
}

/**
 * One writing process per data folder (`<dataDir>/instance.lock/`). Taken at once or refused with
 * `AlreadyRunningError` naming the holder; a holder that is gone is taken over (see
 * `util/dir-lock.ts`). Of processes started at the same moment exactly one gets it.
 */
export async function acquireInstanceLock(dataDir: string, command: string): Promise<InstanceLock> {
  const path = join(dataDir, 'instance.lock');
  await mkdir(dataDir, { recursive: true });
  let attempt = await tryLock(path, command);
  // A lock without an owner is either one being created this instant (its owner appears within
  // milliseconds) or the leftover of a process killed between mkdir and the owner write, which
  // `tryLock` takes over once it is 5 s old: wait for either rather than refusing "another process".
  for (let tries = 0; !attempt.lock && !attempt.owner && tries < OWNERLESS_WAIT_TRIES; tries++) {
    await sleep(100);
    attempt = await tryLock(path, command);
  }
  if (!attempt.lock) throw new AlreadyRunningError(attempt.owner);
  return attempt.lock;
}
