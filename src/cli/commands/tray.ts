import type { Command } from 'commander';
import { hasGraphicalSession } from '../../daemon/tray-child.js';
import { BackupError } from '../../errors.js';
import type { CliContext } from '../context.js';

export function registerTray(program: Command, context: CliContext): void {
  program
    .command('tray')
    .description('show the system tray icon for the daemon (status, force sync, pause/resume, quit)')
    .action(async () => {
      const dataDir = context.dataDir();
      const output = context.output();
      if (!hasGraphicalSession()) {
        throw new BackupError(
          'NO_DESKTOP',
          'No graphical session here (DISPLAY and WAYLAND_DISPLAY are not set): the tray needs a desktop. The daemon runs without it.',
          'unavailable',
        );
      }
      // Loaded only here: the tray's libraries are not needed by other commands.
      const { runTray } = await import('../../tray/run.js');
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const end = await runTray({
        dataDir,
        log,
        onReady: () => {
          const line = output.json
            ? JSON.stringify({ ok: true, pid: process.pid, dataDir })
            : `tray running (pid ${process.pid}) for ${dataDir}; Quit from its menu or press Ctrl-C`;
          process.stdout.write(`${line}\n`);
        },
      });
      if (!output.json) log(end === 'quit' ? 'quit from the menu' : 'stopped');
      // Started by the daemon: its IPC channel would keep this process alive.
      if (process.connected) process.disconnect();
    });
}
