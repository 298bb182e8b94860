import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, rename, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BackupError } from '../errors.js';

/**
 * systray2 ships its prebuilt Go tray programs in the npm package (`traybin/`), but the tarball
 * lost their exec bit. This copies the one for this OS into a cache folder once, executable, and
 * checks on Linux that the shared libraries it links against are installed.
 */

const BINARIES: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'tray_linux_release',
  darwin: 'tray_darwin_release',
  win32: 'tray_windows_release.exe',
};

/** The Debian package that provides `libappindicator3.so.1`, which the Linux tray program links against. */
export const LINUX_TRAY_PACKAGE = 'libayatana-appindicator3-1';

export interface TrayBinary {
  /** The executable copy (or systray2's own file on Windows, where no exec bit is needed). */
  path: string;
  /** What to give systray2 as `copyDir`: it looks for `<copyDir>/<its version>/<binary>`. */
  copyDir: string | false;
}

/** The cache folder for the executable copy: XDG on Linux, `~/Library/Caches` on macOS. */
export function trayCacheDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'pubky-backup', 'tray');
  if (platform === 'win32')
    return join(env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'pubky-backup', 'tray');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pubky-backup', 'tray');
}

/**
 * The tray program for this OS, ready to run. `TRAY_UNAVAILABLE` when systray2 is not installed
 * or has no program for this OS.
 */
export async function prepareTrayBinary(
  platform: NodeJS.Platform = process.platform,
  cacheDir = trayCacheDir(platform),
): Promise<TrayBinary> {
  const name = BINARIES[platform];
  if (!name) throw unavailable(`systray2 has no tray program for ${platform}`);
  let packageDir: string;
  let version: string;
  try {
    const manifest = createRequire(import.meta.url).resolve('systray2/package.json');
    packageDir = dirname(manifest);
    version = (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
  } catch {
    throw unavailable('the systray2 package is not installed (reinstall pubky-backup)');
  }
  const source = join(packageDir, 'traybin', name);
  const sourceStat = await stat(source).catch(() => undefined);
  if (!sourceStat) throw unavailable(`systray2's tray program is missing (${source})`);
  if (platform === 'win32') return { path: source, copyDir: false };

  const target = join(cacheDir, version, name);
  const existing = await stat(target).catch(() => undefined);
  if (!existing || existing.size !== sourceStat.size) {
    await mkdir(dirname(target), { recursive: true });
    // Copy beside, then rename: two trays starting at once never run a half-written program.
    const temp = `${target}.${process.pid}.tmp`;
    await copyFile(source, temp);
    await chmod(temp, 0o755);
    await rename(temp, target);
  } else if ((existing.mode & 0o111) === 0) {
    await chmod(target, 0o755);
  }
  return { path: target, copyDir: cacheDir };
}

/**
 * Shared libraries the program links against that are not installed (from `ldd`, Linux only);
 * empty when all are there or when it cannot tell.
 */
export async function missingLibraries(path: string): Promise<string[]> {
  const output = await new Promise<string>((resolve) =>
    execFile('ldd', [path], { timeout: 10_000 }, (error, stdout) => resolve(error ? '' : stdout)),
  );
  return notFoundLibraries(output);
}

/** The libraries `ldd` printed as `=> not found`. */
export function notFoundLibraries(lddOutput: string): string[] {
  return lddOutput
    .split('\n')
    .map((line) => /^\s*(\S+)\s*=>\s*not found/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** Throws `TRAY_UNAVAILABLE` naming the Debian package when a library of the Linux tray program is missing. */
export async function checkTrayLibraries(
  binary: TrayBinary,
  platform = process.platform,
  missingOf: (path: string) => Promise<string[]> = missingLibraries,
): Promise<void> {
  if (platform !== 'linux') return;
  const missing = await missingOf(binary.path);
  if (missing.length === 0) return;
  const hint = missing.some((name) => name.startsWith('libappindicator3') || name.startsWith('libayatana'))
    ? ` (Debian/Ubuntu: apt install ${LINUX_TRAY_PACKAGE})`
    : '';
  throw unavailable(`the tray needs ${missing.join(', ')}, which is not installed${hint}`);
}

/** `TRAY_UNAVAILABLE`: the tray cannot run here; the daemon works without it. */
export function unavailable(why: string): BackupError {
  return new BackupError(
    'TRAY_UNAVAILABLE',
    `No tray icon: ${why}. The backup itself runs without it.`,
    'unavailable',
    { reason: why },
  );
}
