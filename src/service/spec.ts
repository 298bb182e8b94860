import { isAbsolute } from 'node:path';
import { BackupError } from '../errors.js';

/** What the login item runs: `<node> <cli> daemon --data-dir <dataDir>`, every path absolute. */
export interface ServiceSpec {
  /** The Node.js executable (`process.execPath`). */
  node: string;
  /** This installation's `dist/cli/main.js`. */
  cli: string;
  /** The data folder the daemon serves. */
  dataDir: string;
}

/** Name of the systemd user unit (`pubky-backup.service`) and of the Windows Startup script. */
export const SERVICE_NAME = 'pubky-backup';
/** Label of the launchd agent (`~/Library/LaunchAgents/org.pubky.backup.plist`). */
export const LAUNCHD_LABEL = 'org.pubky.backup';

/** The daemon's command line. */
export function daemonArgv(spec: ServiceSpec): string[] {
  return [spec.node, spec.cli, 'daemon', '--data-dir', spec.dataDir];
}

/**
 * Checks a spec before anything is written: absolute paths without line breaks (a login item
 * cannot start from a relative path).
 */
export function checkSpec(spec: ServiceSpec, isAbsolutePath: (path: string) => boolean = isAbsolute): void {
  for (const [name, path] of Object.entries(spec)) {
    if (!isAbsolutePath(path) || /[\r\n]/.test(path)) {
      throw new BackupError(
        'SERVICE_PATH_INVALID',
        `The service needs an absolute path without line breaks for ${name}, not "${path}".`,
        'invalid',
        { [name]: path },
      );
    }
  }
}

/**
 * A warning when the CLI runs from a temporary npx copy, which a login item must not point at
 * (it may be gone by the next login); undefined otherwise.
 */
export function temporaryInstallWarning(spec: ServiceSpec): string | undefined {
  if (!/[\\/]_npx[\\/]/.test(spec.cli)) return undefined;
  return `pubky-backup runs from npx's temporary cache (${spec.cli}), which may be cleaned before the next login: install it first (npm install -g pubky-backup), then run service install again.`;
}
