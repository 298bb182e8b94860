import type { DaemonInfo } from '../daemon/daemon-file.js';
import { BackupError } from '../errors.js';

/**
 * The address "Open dashboard" opens: the daemon's dashboard on 127.0.0.1. The one place that
 * decides it (the dashboard's login link will be made here).
 */
export function dashboardUrl(info: Pick<DaemonInfo, 'port'>): string {
  return `http://127.0.0.1:${info.port}/`;
}

/** Opens an address in the default browser, or a folder in the file manager (the `open` package). */
export async function openExternal(target: string): Promise<void> {
  try {
    const { default: open } = await import('open');
    const child = await open(target);
    child.on('error', () => {});
  } catch (error) {
    throw new BackupError(
      'OPEN_FAILED',
      `Cannot open ${target}: ${(error as Error).message}.`,
      'unavailable',
      {
        target,
      },
    );
  }
}
