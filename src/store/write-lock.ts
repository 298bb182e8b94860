import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../util/process-alive.js';

/**
 * A short, cross-process lock on a key's data (`state/write.lock/`): sync holds it while it applies
 * a batch, a snapshot while it freezes the file list. `mkdir` is atomic, so it needs no library;
 * a lock whose process died is taken over.
 */
export async function acquireWriteLock(
  stateDir: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<() => Promise<void>> {
  const dir = join(stateDir, 'write.lock');
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'owner'), String(process.pid));
      return () => rm(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(dir, 'owner'), 'utf8').catch(() => ''));
    if (owner > 0 && !isProcessAlive(owner)) {
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    options.signal?.throwIfAborted();
    if (Date.now() > deadline) {
      throw new Error(`the backup in ${stateDir} stayed locked by process ${owner || '?'} for too long`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
