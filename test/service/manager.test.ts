import { lstat, mkdtemp, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CommandResult,
  installService,
  type ServiceContext,
  serviceStatus,
  systemdUnit,
  uninstallService,
} from '../../src/service/index.js';

const spec = (home: string) => ({
  node: '/usr/bin/node',
  cli: '/opt/pb/dist/cli/main.js',
  dataDir: join(home, 'data'),
});

/** A machine in a temp HOME whose commands are answered by `answer` (and recorded). */
async function machine(
  platform: NodeJS.Platform,
  answer: (argv: readonly string[]) => Partial<CommandResult> = () => ({}),
) {
  const home = await mkdtemp(join(tmpdir(), 'pubky-backup-service-'));
  const ran: string[] = [];
  const context: ServiceContext = {
    platform,
    env: { XDG_CONFIG_HOME: join(home, '.config') },
    home,
    uid: 501,
    run: async (argv) => {
      ran.push(argv.join(' '));
      return { code: 0, stdout: '', stderr: '', ...answer(argv) };
    },
  };
  return { home, ran, context };
}

const noUserSession = (argv: readonly string[]) =>
  argv.includes('show-environment') ? { code: 1, stderr: 'Failed to connect to bus: No medium found' } : {};

describe('service install / uninstall / status', () => {
  it('Linux with a systemd user session: writes the unit, daemon-reload, enable --now', async () => {
    const { home, ran, context } = await machine('linux', (argv) =>
      argv.includes('is-enabled')
        ? { stdout: 'enabled\n' }
        : argv.includes('is-active')
          ? { stdout: 'active\n' }
          : {},
    );
    const report = await installService(spec(home), context);
    const unit = join(home, '.config/systemd/user/pubky-backup.service');
    expect(await readFile(unit, 'utf8')).toBe(systemdUnit(spec(home)));
    expect(ran).toEqual([
      'systemctl --user show-environment',
      'systemctl --user daemon-reload',
      'systemctl --user enable --now pubky-backup.service',
    ]);
    expect(report).toMatchObject({ manager: 'systemd', enabled: true, started: true, notes: [] });
    expect(await serviceStatus(spec(home), context)).toMatchObject({
      installed: true,
      outdated: false,
      enabled: true,
      running: true,
    });
    // Another data folder: the installed unit is out of date.
    expect((await serviceStatus({ ...spec(home), dataDir: '/elsewhere' }, context)).outdated).toBe(true);

    ran.length = 0;
    const removed = await uninstallService(context);
    expect(removed.removed).toBe(true);
    expect(ran).toEqual([
      'systemctl --user show-environment',
      'systemctl --user disable --now pubky-backup.service',
      'systemctl --user show-environment',
      'systemctl --user daemon-reload',
    ]);
    await expect(lstat(unit)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('Linux with a daemon already running: enabled for the next login, not started twice', async () => {
    const { home, ran, context } = await machine('linux');
    const report = await installService(spec(home), context, { daemonRunning: true });
    expect(ran).toContain('systemctl --user enable pubky-backup.service');
    expect(report).toMatchObject({ enabled: true, started: false });
    expect(report.notes[0]).toMatch(/a daemon already runs/);
  });

  it('Linux without a systemd user session (containers, CI): writes the unit and the enable link, and says so', async () => {
    const { home, ran, context } = await machine('linux', noUserSession);
    const report = await installService(spec(home), context);
    const dir = join(home, '.config/systemd/user');
    expect(await readlink(join(dir, 'default.target.wants/pubky-backup.service'))).toBe(
      join(dir, 'pubky-backup.service'),
    );
    expect(ran).toEqual(['systemctl --user show-environment']);
    expect(report).toMatchObject({
      enabled: true,
      started: false,
      link: join(dir, 'default.target.wants/pubky-backup.service'),
    });
    expect(report.notes[0]).toMatch(/^no systemd user session here .*starts at the next login/);
    expect(await serviceStatus(spec(home), context)).toMatchObject({
      installed: true,
      enabled: true,
      running: null,
    });
    await uninstallService(context);
    expect(await serviceStatus(spec(home), context)).toMatchObject({ installed: false, enabled: false });
    await expect(lstat(join(dir, 'default.target.wants/pubky-backup.service'))).rejects.toThrow();
  });

  it('a failing systemctl is an error with its message', async () => {
    const { home, context } = await machine('linux', (argv) =>
      argv.includes('enable') ? { code: 1, stderr: 'Unit file is masked.' } : {},
    );
    await expect(installService(spec(home), context)).rejects.toMatchObject({
      code: 'SERVICE_COMMAND_FAILED',
      message:
        'systemctl --user enable --now pubky-backup.service failed (exit code 1): Unit file is masked..',
    });
  });

  it('--dry-run writes and runs nothing, and tells what it would do', async () => {
    const { home, ran, context } = await machine('linux');
    const report = await installService(spec(home), context, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.content).toBe(systemdUnit(spec(home)));
    expect(report.commands.map((c) => c.argv.join(' '))).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user enable --now pubky-backup.service',
    ]);
    expect(ran).toEqual(['systemctl --user show-environment']); // a read-only probe
    await expect(lstat(report.file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('macOS: writes the plist and bootstraps the agent in the gui domain', async () => {
    const { home, ran, context } = await machine('darwin', (argv) =>
      argv[1] === 'print' ? { stdout: 'org.pubky.backup = {\n\tstate = running\n}' } : {},
    );
    const report = await installService(spec(home), context);
    const plist = join(home, 'Library/LaunchAgents/org.pubky.backup.plist');
    expect(await readFile(plist, 'utf8')).toContain('<string>org.pubky.backup</string>');
    expect(ran).toEqual([
      'launchctl bootout gui/501/org.pubky.backup',
      `launchctl bootstrap gui/501 ${plist}`,
    ]);
    expect(report).toMatchObject({ manager: 'launchd', enabled: true, started: true });
    expect(await serviceStatus(spec(home), context)).toMatchObject({ installed: true, running: true });
  });

  it('relative paths are refused before anything is written', async () => {
    const { home, context } = await machine('linux');
    await expect(installService({ ...spec(home), dataDir: 'data' }, context)).rejects.toMatchObject({
      code: 'SERVICE_PATH_INVALID',
    });
  });
});
