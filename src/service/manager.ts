import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, posix, win32 } from 'node:path';
import { BackupError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { launchdPath, launchdPlist } from './launchd.js';
import { checkSpec, LAUNCHD_LABEL, type ServiceSpec } from './spec.js';
import { systemdPaths, systemdUnit, UNIT_NAME } from './systemd.js';
import { startupScript, startupScriptPath } from './windows.js';

/** How a command ended (`code` 127 when it is not installed). */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}
export type RunCommand = (argv: readonly string[]) => Promise<CommandResult>;

/** Where and how: the OS, the environment (HOME, XDG_CONFIG_HOME, APPDATA) and how to run commands. */
export interface ServiceContext {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
  run: RunCommand;
  /** The user id for launchd's `gui/<uid>` domain. */
  uid: number;
}

/** The login item of one OS: its file, the link that enables it (systemd), the manager that runs it. */
export interface ServiceFile {
  manager: 'systemd' | 'launchd' | 'startup-folder';
  path: string;
  content: string;
  /** systemd: the `default.target.wants/` link that `systemctl --user enable` makes. */
  link?: { path: string; target: string };
}

export interface CommandReport {
  argv: string[];
  /** Absent on a dry run. */
  code?: number;
  stderr?: string;
}

export interface ServiceReport {
  platform: NodeJS.Platform;
  manager: ServiceFile['manager'];
  file: string;
  content?: string;
  dryRun: boolean;
  /** What was (or, on a dry run, would be) run. */
  commands: CommandReport[];
  /** Starts at login. */
  enabled: boolean;
  /** Started now by its manager. */
  started: boolean;
  /** systemd without a user session: the `default.target.wants/` link made instead of `systemctl enable`. */
  link?: string;
  /** Why something was not done, and what to do. */
  notes: string[];
}

/** This machine: process.platform, the environment, `execFile`. */
export function systemContext(): ServiceContext {
  return {
    platform: process.platform,
    env: process.env,
    home: homedir(),
    run: runCommand,
    uid: process.getuid?.() ?? 0,
  };
}

/** The login item for an OS, generated on any OS (the tests check all three). */
export function serviceFile(
  spec: ServiceSpec,
  context: Pick<ServiceContext, 'platform' | 'env' | 'home'>,
): ServiceFile {
  switch (context.platform) {
    case 'linux': {
      const paths = systemdPaths(context.env, context.home);
      return {
        manager: 'systemd',
        path: paths.unit,
        content: systemdUnit(spec),
        link: { path: paths.wants, target: paths.unit },
      };
    }
    case 'darwin':
      return {
        manager: 'launchd',
        path: launchdPath(context.home),
        content: launchdPlist(spec, context.home),
      };
    case 'win32':
      return {
        manager: 'startup-folder',
        path: startupScriptPath(context.env),
        content: startupScript(spec),
      };
    default:
      throw new BackupError(
        'SERVICE_UNSUPPORTED',
        `Starting at login is not supported on ${context.platform}: run the daemon from your own service manager.`,
        'unavailable',
      );
  }
}

/**
 * Installs the login item: writes the file, then asks the OS's manager to enable it (and start it
 * now unless `daemonRunning`: a second daemon on the same folder would be refused). Linux without
 * a systemd user session (a container, CI): the unit is written and enabled by its link, and starts
 * at the next login; the report says so. `dryRun`: nothing is written or run.
 */
export async function installService(
  spec: ServiceSpec,
  context: ServiceContext,
  options: { dryRun?: boolean; daemonRunning?: boolean } = {},
): Promise<ServiceReport> {
  checkSpec(spec, context.platform === 'win32' ? win32.isAbsolute : posix.isAbsolute);
  const file = serviceFile(spec, context);
  const report = newReport(context, file, options.dryRun === true);
  report.content = file.content;
  const startNow = !options.daemonRunning;
  if (options.daemonRunning)
    report.notes.push(
      'a daemon already runs on this data folder: the service starts it from the next login on',
    );
  if (!report.dryRun) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFileAtomic(file.path, file.content);
  }
  switch (file.manager) {
    case 'systemd': {
      if (await systemdAvailable(context)) {
        await step(report, context, ['systemctl', '--user', 'daemon-reload']);
        const enable = ['systemctl', '--user', 'enable', ...(startNow ? ['--now'] : []), UNIT_NAME];
        const result = await step(report, context, enable);
        report.enabled = result?.code === 0 || report.dryRun;
        report.started = report.enabled && startNow;
        if (result && result.code !== 0) throw commandFailed(enable, result);
      } else {
        const link = file.link as { path: string; target: string };
        if (!report.dryRun) await replaceLink(link.path, link.target);
        report.link = link.path;
        report.enabled = true;
        report.notes.push(
          'no systemd user session here (systemctl --user does not answer: a container or CI?): the unit is enabled by its default.target.wants link and starts at the next login where systemd runs user sessions; to start the daemon now: pubky-backup daemon',
        );
      }
      break;
    }
    case 'launchd': {
      if (context.platform === 'darwin') {
        // A previous version of the agent is unloaded first (it may not be loaded: not an error).
        await step(report, context, ['launchctl', 'bootout', `gui/${context.uid}/${LAUNCHD_LABEL}`], true);
        if (startNow) {
          const bootstrap = ['launchctl', 'bootstrap', `gui/${context.uid}`, file.path];
          const result = await step(report, context, bootstrap);
          if (result && result.code !== 0) throw commandFailed(bootstrap, result);
        }
        report.started = startNow;
      }
      report.enabled = true;
      break;
    }
    case 'startup-folder': {
      if (context.platform === 'win32' && startNow) {
        const result = await step(report, context, ['cmd.exe', '/d', '/c', file.path]);
        report.started = result?.code === 0 || report.dryRun;
      }
      report.enabled = true;
      break;
    }
  }
  return report;
}

/** Removes the login item (disabling and stopping it first where the manager can). */
export async function uninstallService(
  context: ServiceContext,
  options: { dryRun?: boolean } = {},
): Promise<ServiceReport & { removed: boolean }> {
  const file = serviceFile({ node: '/', cli: '/', dataDir: '/' }, context);
  const report = newReport(context, file, options.dryRun === true);
  const existed = (await lstat(file.path).catch(() => undefined)) !== undefined;
  if (file.manager === 'systemd' && (await systemdAvailable(context))) {
    await step(report, context, ['systemctl', '--user', 'disable', '--now', UNIT_NAME], true);
  }
  if (file.manager === 'launchd' && context.platform === 'darwin') {
    await step(report, context, ['launchctl', 'bootout', `gui/${context.uid}/${LAUNCHD_LABEL}`], true);
  }
  if (!report.dryRun) {
    if (file.link) await rm(file.link.path, { force: true });
    await rm(file.path, { force: true });
  }
  if (file.manager === 'systemd' && (await systemdAvailable(context))) {
    await step(report, context, ['systemctl', '--user', 'daemon-reload'], true);
  }
  if (file.manager === 'startup-folder') {
    report.notes.push('a daemon started by it keeps running until stopped: pubky-backup daemon stop');
  }
  return { ...report, removed: existed };
}

export interface ServiceStatus {
  platform: NodeJS.Platform;
  manager: ServiceFile['manager'];
  file: string;
  installed: boolean;
  /** The file differs from what `service install` would write now (another node, data folder…). */
  outdated: boolean;
  /** Starts at login; null when it cannot be told. */
  enabled: boolean | null;
  /** Running under its manager; null when it cannot be told. */
  running: boolean | null;
}

/** Whether the login item is installed, enabled and running, as far as this OS can tell. */
export async function serviceStatus(spec: ServiceSpec, context: ServiceContext): Promise<ServiceStatus> {
  const file = serviceFile(spec, context);
  const content = await readFile(file.path, 'utf8').catch(() => undefined);
  const status: ServiceStatus = {
    platform: context.platform,
    manager: file.manager,
    file: file.path,
    installed: content !== undefined,
    outdated: content !== undefined && content !== file.content,
    enabled: content !== undefined,
    running: null,
  };
  if (file.manager === 'systemd') {
    if (await systemdAvailable(context)) {
      const enabled = await context.run(['systemctl', '--user', 'is-enabled', UNIT_NAME]);
      const active = await context.run(['systemctl', '--user', 'is-active', UNIT_NAME]);
      status.enabled = enabled.stdout.trim() === 'enabled';
      status.running = active.stdout.trim() === 'active';
    } else {
      const link = file.link as { path: string };
      status.enabled = (await readlink(link.path).catch(() => undefined)) !== undefined;
    }
  } else if (file.manager === 'launchd' && context.platform === 'darwin') {
    const printed = await context.run(['launchctl', 'print', `gui/${context.uid}/${LAUNCHD_LABEL}`]);
    status.running = printed.code === 0 && /state = running/.test(printed.stdout);
  }
  return status;
}

/** Whether systemd runs a user session here (`systemctl --user` answers). */
export async function systemdAvailable(context: Pick<ServiceContext, 'run'>): Promise<boolean> {
  return (await context.run(['systemctl', '--user', 'show-environment'])).code === 0;
}

/** Runs a command with `execFile` (no shell); code 127 when it is not installed. */
export function runCommand(argv: readonly string[]): Promise<CommandResult> {
  const [command, ...args] = argv;
  return new Promise((resolve) =>
    execFile(command as string, args, { timeout: 60_000, windowsHide: true }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolve({
        code,
        stdout: String(stdout),
        stderr: String(stderr || (error && !stderr ? error.message : '')),
      });
    }),
  );
}

function newReport(context: ServiceContext, file: ServiceFile, dryRun: boolean): ServiceReport {
  return {
    platform: context.platform,
    manager: file.manager,
    file: file.path,
    dryRun,
    commands: [],
    enabled: false,
    started: false,
    notes: [],
  };
}

/** Runs one command of the plan (only records it on a dry run). */
async function step(
  report: ServiceReport,
  context: ServiceContext,
  argv: string[],
  mayFail = false,
): Promise<CommandResult | undefined> {
  if (report.dryRun) {
    report.commands.push({ argv });
    return undefined;
  }
  const result = await context.run(argv);
  report.commands.push({
    argv,
    code: result.code,
    ...(result.code !== 0 ? { stderr: result.stderr.trim() } : {}),
  });
  if (result.code !== 0 && mayFail) return undefined;
  return result;
}

async function replaceLink(path: string, target: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true });
  await symlink(target, path);
}

function commandFailed(argv: string[], result: CommandResult): BackupError {
  return new BackupError(
    'SERVICE_COMMAND_FAILED',
    `${argv.join(' ')} failed (exit code ${result.code}): ${result.stderr.trim() || result.stdout.trim() || 'no message'}.`,
    'unavailable',
    { command: argv, code: result.code },
  );
}
