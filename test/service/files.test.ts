import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cmdQuote,
  launchdPlist,
  serviceFile,
  startupScript,
  systemdQuote,
  systemdUnit,
} from '../../src/service/index.js';

const linux = {
  node: '/usr/bin/node',
  cli: '/opt/pubky backup/dist/cli/main.js',
  dataDir: '/home/me/.pubky-backup',
};
const mac = {
  node: '/usr/local/bin/node',
  cli: '/usr/local/lib/node_modules/pubky-backup/dist/cli/main.js',
  dataDir: '/Users/me/My <Backups> & more',
};
const windows = {
  node: 'C:\\Program Files\\nodejs\\node.exe',
  cli: 'C:\\Users\\me\\AppData\\Roaming\\npm\\node_modules\\pubky-backup\\dist\\cli\\main.js',
  dataDir: 'C:\\Users\\me\\100% backups',
};

describe('login items for every OS (generated anywhere)', () => {
  it('Linux: a systemd user unit running the daemon, restarted on failure, wanted by default.target', () => {
    const unit = systemdUnit(linux);
    expect(unit).toContain(
      'ExecStart="/usr/bin/node" "/opt/pubky backup/dist/cli/main.js" "daemon" "--data-dir" "/home/me/.pubky-backup"\n',
    );
    for (const line of [
      '[Unit]',
      '[Service]',
      'Type=simple',
      'Restart=on-failure',
      '[Install]',
      'WantedBy=default.target',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
    const file = serviceFile(linux, {
      platform: 'linux',
      env: { XDG_CONFIG_HOME: '/xdg' },
      home: '/home/me',
    });
    expect(file).toMatchObject({
      manager: 'systemd',
      path: '/xdg/systemd/user/pubky-backup.service',
      link: {
        path: '/xdg/systemd/user/default.target.wants/pubky-backup.service',
        target: '/xdg/systemd/user/pubky-backup.service',
      },
    });
    expect(serviceFile(linux, { platform: 'linux', env: {}, home: '/home/me' }).path).toBe(
      '/home/me/.config/systemd/user/pubky-backup.service',
    );
  });

  it('systemd quoting: specifiers, variables, quotes and backslashes cannot change the command', () => {
    expect(systemdQuote('/a b/100%/$HOME/"x"\\y')).toBe('"/a b/100%%/$$HOME/\\"x\\"\\\\y"');
    expect(() => systemdQuote('a\nb')).toThrow(/line break/);
  });

  it('systemd-analyze verify accepts the unit (when systemd is installed)', async (context) => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-backup-unit-'));
    const unit = join(dir, 'pubky-backup.service');
    // The executable must exist for verify: this node, and a data folder path with every special character.
    await writeFile(
      unit,
      systemdUnit({ node: process.execPath, cli: '/x/main.js', dataDir: '/data/100% $HOME "q"' }),
    );
    const result = await new Promise<{ code: number | string; stderr: string }>((resolve) =>
      execFile('systemd-analyze', ['verify', unit], (error, _stdout, stderr) =>
        resolve({ code: error ? ((error as NodeJS.ErrnoException).code ?? 1) : 0, stderr }),
      ),
    );
    if (result.code === 'ENOENT') {
      console.log('systemd-analyze is not installed (Debian: systemd): the unit was checked as text only');
      context.skip();
    }
    expect(result.stderr.split('\n').filter((line) => line.includes('pubky-backup.service'))).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('macOS: a launchd agent plist that runs at load and is kept alive after failures only', () => {
    const plist = launchdPlist(mac, '/Users/me');
    expect(plist).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist /);
    expect(plist).toContain('<key>Label</key>\n  <string>org.pubky.backup</string>');
    expect(plist).toContain(
      [
        '  <key>ProgramArguments</key>',
        '  <array>',
        '    <string>/usr/local/bin/node</string>',
        '    <string>/usr/local/lib/node_modules/pubky-backup/dist/cli/main.js</string>',
        '    <string>daemon</string>',
        '    <string>--data-dir</string>',
        '    <string>/Users/me/My &lt;Backups&gt; &amp; more</string>',
        '  </array>',
      ].join('\n'),
    );
    expect(plist).toContain('<key>RunAtLoad</key>\n  <true/>');
    expect(plist).toContain(
      '<key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>',
    );
    expect(plist).toContain('<string>/Users/me/Library/Logs/pubky-backup.log</string>');
    expect(wellFormed(plist)).toBe(true);
    expect(wellFormed('<plist><dict></plist></dict>')).toBe(false);
    expect(serviceFile(mac, { platform: 'darwin', env: {}, home: '/Users/me' }).path).toBe(
      '/Users/me/Library/LaunchAgents/org.pubky.backup.plist',
    );
  });

  it('Windows: a .cmd in the Startup folder that starts the daemon minimised', () => {
    const script = startupScript(windows);
    expect(script.split('\r\n')).toEqual([
      '@echo off',
      'rem Pubky Backup: starts the backup daemon at login.',
      'rem Written by "pubky-backup service install"; remove it with "pubky-backup service uninstall".',
      'start "Pubky Backup" /min "C:\\Program Files\\nodejs\\node.exe" "C:\\Users\\me\\AppData\\Roaming\\npm\\node_modules\\pubky-backup\\dist\\cli\\main.js" "daemon" "--data-dir" "C:\\Users\\me\\100%% backups"',
      '',
    ]);
    expect(cmdQuote('50%')).toBe('"50%%"');
    const file = serviceFile(windows, {
      platform: 'win32',
      env: { APPDATA: 'C:\\Users\\me\\AppData\\Roaming' },
      home: 'C:\\Users\\me',
    });
    expect(file).toMatchObject({
      manager: 'startup-folder',
      path: 'C:\\Users\\me\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\pubky-backup.cmd',
    });
  });

  it('other OSes are refused with a clear message', () => {
    expect(() => serviceFile(linux, { platform: 'freebsd', env: {}, home: '/home/me' })).toThrow(
      /not supported on freebsd/,
    );
  });
});

/** Elements nest and close in order (declaration, doctype and comments aside). */
function wellFormed(xml: string): boolean {
  const open: string[] = [];
  for (const [, closing, name, selfClosing] of xml.matchAll(/<(\/?)([A-Za-z][\w.-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (!closing) open.push(name as string);
    else if (open.pop() !== name) return false;
  }
  return open.length === 0;
}
