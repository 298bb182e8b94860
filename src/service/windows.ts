import { win32 } from 'node:path';
import { daemonArgv, SERVICE_NAME, type ServiceSpec } from './spec.js';

/** `%APPDATA%\Microsoft\Windows\Start Menu\Programs\Startup\pubky-backup.cmd`: run at every login. */
export function startupScriptPath(env: NodeJS.ProcessEnv = process.env): string {
  const appData = env.APPDATA || win32.join(env.USERPROFILE || 'C:\\Users\\Default', 'AppData', 'Roaming');
  return win32.join(
    appData,
    'Microsoft',
    'Windows',
    'Start Menu',
    'Programs',
    'Startup',
    `${SERVICE_NAME}.cmd`,
  );
}

/** One argument quoted for a batch file (`%` doubled; Windows paths cannot hold `"`). */
export function cmdQuote(arg: string): string {
  return `"${arg.replace(/%/g, '%%').replace(/"/g, '')}"`;
}

/**
 * The Startup folder script: starts the daemon minimised in its own window and returns (the
 * Startup folder has no restart on failure: the tray shows when it is not running).
 */
export function startupScript(spec: ServiceSpec): string {
  return [
    '@echo off',
    'rem Pubky Backup: starts the backup daemon at login.',
    'rem Written by "pubky-backup service install"; remove it with "pubky-backup service uninstall".',
    `start "Pubky Backup" /min ${daemonArgv(spec).map(cmdQuote).join(' ')}`,
    '',
  ].join('\r\n');
}
