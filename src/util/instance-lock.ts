import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from './process-alive.js';

export class AlreadyRunningError extends Error {
  override readonly name = 'AlreadyRunningError';
  constructor(
    readonly pid: number,
    readonly command: string,
  ) {
    super(
      `pubky-backup is already running on this data folder (pid ${pid}, "${command}"). ` +
        'Stop it first, or use another --data-dir.',
    );
  }
}

export interface InstanceLock {
  release(): Promise<void>;
}

/**
 * One syncing process per data folder: `<dataDir>/lock` holds the owner's pid. A lock whose
 * process is gone (a crash) is taken over.
 */
export async function acquireInstanceLock(dataDir: string, command: string): Promise<InstanceLock> {
  const file = join(dataDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(
        JSON.stringify({ pid: process.pid, command, startedAt: new Date().toISOString() }),
      );
      await handle.close();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = await readOwner(file);
      if (owner && isProcessAlive(owner.pid)) throw new AlreadyRunningError(owner.pid, owner.command);
      await rm(file, { force: true }); // stale: its process died
    }
  }
  throw new Error(`could not take the lock ${file}`);
}

async function readOwner(file: string): Promise<{ pid: number; command: string } | undefined> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8'));
    return typeof owner.pid === 'number' ? owner : undefined;
  } catch {
    return undefined;
  }
}
