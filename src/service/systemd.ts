import { homedir } from 'node:os';
import { join } from 'node:path';
import { BackupError } from '../errors.js';
import { daemonArgv, SERVICE_NAME, type ServiceSpec } from './spec.js';

/** `pubky-backup.service`. */
export const UNIT_NAME = `${SERVICE_NAME}.service`;

/** `$XDG_CONFIG_HOME/systemd/user` (default `~/.config/systemd/user`): where systemd reads user units. */
export function systemdUserDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd', 'user');
}

/** The unit file, and the link `systemctl --user enable` makes (`default.target.wants/`). */
export function systemdPaths(
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): { unit: string; wants: string } {
  const dir = systemdUserDir(env, home);
  return { unit: join(dir, UNIT_NAME), wants: join(dir, 'default.target.wants', UNIT_NAME) };
}

/**
 * One argument of `ExecStart=`, quoted for systemd: double quotes with `\` and `"` escaped, `%`
 * (specifiers) doubled and `$` (variables) doubled.
 */
export function systemdQuote(arg: string): string {
  if (/[\r\n]/.test(arg)) {
    throw new BackupError(
      'SERVICE_PATH_INVALID',
      'A systemd command line cannot hold a line break.',
      'invalid',
    );
  }
  const escaped = arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return `"${escaped}"`;
}

/**
 * The systemd user unit: the daemon in the foreground (SIGTERM stops it within 5 s), restarted
 * after a failure (at most 5 times in 5 minutes), started with the user's session.
 */
export function systemdUnit(spec: ServiceSpec): string {
  return [
    '# Written by `pubky-backup service install`; remove with `pubky-backup service uninstall`.',
    '[Unit]',
    'Description=Pubky Backup daemon (keeps a verified local copy of Pubky homeserver data)',
    'StartLimitIntervalSec=300',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${daemonArgv(spec).map(systemdQuote).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=10',
    'TimeoutStopSec=15',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}
