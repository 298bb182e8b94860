import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The daemon starts the tray icon (`pubky-backup tray`) as a child process when `tray.enabled` is
 * on and a graphical session exists; headless machines run the daemon alone. The child checks
 * itself that its tray library loads (it exits with one line, logged here, when not) and dies with
 * the daemon: stopped with it, and through its IPC channel after a kill -9.
 */

/** Whether a desktop is there to show an icon: Linux needs `DISPLAY` or `WAYLAND_DISPLAY`; macOS and Windows always have one. */
export function hasGraphicalSession(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY?.trim() || env.WAYLAND_DISPLAY?.trim());
}

/** Whether the daemon starts the tray, and why (logged). */
export function trayDecision(
  enabled: boolean,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): { start: boolean; reason: string } {
  if (!enabled) return { start: false, reason: 'tray.enabled is false' };
  if (!hasGraphicalSession(env, platform)) {
    return { start: false, reason: 'no graphical session (DISPLAY and WAYLAND_DISPLAY are not set)' };
  }
  return { start: true, reason: 'graphical session found' };
}

/** `node <dist>/cli/main.js`: how this installation runs its CLI. */
export function cliCommand(): string[] {
  return [process.execPath, fileURLToPath(new URL('../cli/main.js', import.meta.url))];
}

export interface TrayLauncherOptions {
  dataDir: string;
  /** One line for the daemon's log. */
  log: (level: 'info' | 'warn', message: string) => void;
  /** The CLI to run `tray` with (default: this installation's). */
  command?: readonly string[];
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

/** Starts and stops the daemon's tray child as `tray.enabled` says. */
export class TrayLauncher {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly options: TrayLauncherOptions) {}

  /** The running child, if any. */
  get process(): ChildProcess | undefined {
    return this.child;
  }

  /** Starts the tray when it should run and does not; stops it when it should not run. */
  async apply(enabled: boolean): Promise<void> {
    const decision = trayDecision(enabled, this.options.env, this.options.platform);
    if (!decision.start) {
      if (this.child) await this.stop();
      this.options.log('info', `tray not started: ${decision.reason}`);
      return;
    }
    if (this.child) return;
    const [command, ...args] = this.options.command ?? cliCommand();
    const child = spawn(command as string, [...args, '--data-dir', this.options.dataDir, 'tray'], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: this.options.env ?? process.env,
      windowsHide: true,
    });
    this.child = child;
    // What the tray says goes to the daemon's log; its failures (`error: …`) as warnings.
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) =>
        this.options.log(line.startsWith('error:') ? 'warn' : 'info', `tray: ${line}`),
      );
    }
    child.on('error', (error) => this.options.log('warn', `tray not started: ${error.message}`));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        this.options.log(code === 0 ? 'info' : 'warn', `tray exited (${signal ?? `exit code ${code}`})`);
        resolve();
      }),
    );
    // The daemon's own exit never waits for its tray.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    this.options.log('info', `tray started (pid ${child.pid})`);
  }

  /** Stops the tray child (SIGTERM, then SIGKILL after 3 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, 3_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (child.connected) child.disconnect();
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}
