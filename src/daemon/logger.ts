import { join } from 'node:path';
import type { Logger } from 'pino';

/** Folder of the daemon's logs: `<data dir>/logs/` (`daemon.<n>.log`, the highest n is the active one). */
export function logsDir(dataDir: string): string {
  return join(dataDir, 'logs');
}

/**
 * The daemon's logger: JSON lines (pino) in `logs/daemon.<n>.log`, a new file each day or at
 * 10 MB, the last 7 kept (pino-roll). `close` before exit so the last lines reach the disk.
 */
export async function createDaemonLogger(
  dataDir: string,
): Promise<{ logger: Logger; close(): Promise<void> }> {
  const { default: pino } = await import('pino');
  const { default: roll } = await import('pino-roll');
  // The rolling file stream in this thread (no transport worker: a daemon's memory matters).
  const stream = await roll({
    file: join(logsDir(dataDir), 'daemon'),
    extension: '.log',
    frequency: 'daily',
    size: '10m',
    limit: { count: 7 },
    mkdir: true,
  });
  const logger = pino({ base: { pid: process.pid } }, stream);
  return {
    logger,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        stream.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        stream.end();
      }),
  };
}
