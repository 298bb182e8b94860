import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

/** A display nobody serves: the tray program cannot open it. */
const DEAD_DISPLAY = ':31999';

describe('pubky-backup tray (CLI)', () => {
  it('without a desktop: one line, exit 2, never a crash', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-tray-cli-'));
    const plain = await runCli(['--data-dir', dataDir, 'tray'], { DISPLAY: '', WAYLAND_DISPLAY: '' });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe(
      'error: No graphical session here (DISPLAY and WAYLAND_DISPLAY are not set): the tray needs a desktop. The daemon runs without it.\n',
    );
    const json = await runCli(['--data-dir', dataDir, '--json', 'tray'], {
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
    });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'NO_DESKTOP' } });
  });

  it('a tray that cannot start (its library or display missing) is one line, exit 2', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-tray-cli-'));
    const cache = await mkdtemp(join(tmpdir(), 'pubky-backup-tray-bin-'));
    const result = await runCli(['--data-dir', dataDir, 'tray'], {
      DISPLAY: DEAD_DISPLAY,
      XDG_CACHE_HOME: cache,
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    // "cannot open display" here; "needs libappindicator3.so.1 … apt install libayatana-appindicator3-1"
    // on a machine without the library.
    expect(lines[0]).toMatch(/^error: No tray icon: .+\. The backup itself runs without it\.$/);
  });

  it('the daemon runs on when its tray cannot start, and logs why', { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-tray-cli-'));
    const cache = await mkdtemp(join(tmpdir(), 'pubky-backup-tray-bin-'));
    const daemon = spawn(
      process.execPath,
      [BIN, '--data-dir', dataDir, '--no-dht', '--json', 'daemon', '--port', '0'],
      {
        env: {
          ...process.env,
          DISPLAY: DEAD_DISPLAY,
          XDG_CACHE_HOME: cache,
          PUBKY_RELAYS: '',
          PUBKY_BACKUP_HOME: '',
        },
        stdio: 'ignore',
      },
    );
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    try {
      const log = async () => {
        const dir = join(dataDir, 'logs');
        const files = await readdir(dir).catch(() => []);
        return (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('');
      };
      await expect.poll(log, { timeout: 30_000, interval: 200 }).toMatch(/tray exited \(exit code 2\)/);
      expect(await log()).toMatch(/"level":40,[^\n]*tray: error: No tray icon: /);
      const status = await runCli(['--data-dir', dataDir, 'daemon', 'status']);
      expect(status.stdout).toMatch(/^running: pid /);
      expect((await runCli(['--data-dir', dataDir, 'daemon', 'stop'])).code).toBe(0);
      await exited;
    } finally {
      daemon.kill('SIGKILL');
    }
  });
});
