import type { DaemonClient } from '../daemon/client.js';
import { BackupError } from '../errors.js';

/**
 * The address "Open dashboard" opens: a one-time login link from the daemon
 * (`POST /login-link` → `{url}`, valid 2 minutes, exchanged for a session cookie), so the browser
 * lands logged in. Falls back to the dashboard's plain address (which explains how to log in)
 * when the daemon cannot make one.
 */
export async function dashboardUrl(client: DaemonClient): Promise<string> {
  try {
    const { url } = await client.request<{ url: string }>('POST', '/login-link');
    return url;
  } catch {
    return `http://127.0.0.1:${client.info.port}/`;
  }
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
