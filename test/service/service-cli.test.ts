import { spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

/** A temp HOME without a systemd user session (so the test never touches the real one). */
async function home() {
  const dir = await mkdtemp(join(tmpdir(), 'pubky-backup-service-home-'));
  const env = {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, '.config'),
    XDG_RUNTIME_DIR: '',
    DBUS_SESSION_BUS_ADDRESS: '',
  };
  const dataDir = join(dir, 'backup data');
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...args], env);
  return { dir, env, dataDir, cli, unit: join(dir, '.config/systemd/user/pubky-backup.service') };
}

/** The arguments of a unit's ExecStart (systemd's double-quoted form, as we write it). */
function execStart(unit: string): string[] {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart=')) as string;
  return [...line.slice('ExecStart='.length).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
    (m[1] as string).replace(/\\(.)/g, '$1').replace(/%%/g, '%').replace(/\$\$/g, '$'),
  );
}

describe.runIf(process.platform === 'linux')('pubky-backup service (Linux)', () => {
  it('--dry-run prints the unit and the commands, and writes nothing', async () => {
    const { cli, unit, dataDir } = await home();
    const result = await cli('service', 'install', '--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('dry run: nothing written or run');
    expect(result.stdout).toContain(`would write ${unit}:`);
    expect(result.stdout).toContain(
      `ExecStart="${process.execPath}" "${BIN}" "daemon" "--data-dir" "${dataDir}"`,
    );
    expect(result.stdout).toContain('would link ');
    await expect(lstat(unit)).rejects.toMatchObject({ code: 'ENOENT' });
    const json = JSON.parse((await cli('--json', 'service', 'install', '--dry-run')).stdout);
    expect(json).toMatchObject({ ok: true, dryRun: true, manager: 'systemd', file: unit });
    expect(json.content).toContain('Restart=on-failure');
  });

  it('install writes the unit (enabled by its link without a user session, and says so); status; its command runs the daemon; uninstall', {
    timeout: 60_000,
  }, async () => {
    const { cli, unit, dataDir, dir } = await home();
    expect((await cli('service', 'status')).code).toBe(1);
    const installed = await cli('service', 'install');
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain(`wrote ${unit}`);
    expect(installed.stdout).toContain('no systemd user session here');
    const content = await readFile(unit, 'utf8');
    expect(execStart(content)).toEqual([process.execPath, BIN, 'daemon', '--data-dir', dataDir]);
    expect(
      await lstat(join(dir, '.config/systemd/user/default.target.wants/pubky-backup.service')),
    ).toBeTruthy();

    const status = JSON.parse((await cli('--json', 'service', 'status')).stdout);
    expect(status).toMatchObject({
      ok: true,
      installed: true,
      outdated: false,
      enabled: true,
      running: null,
      daemon: null,
    });

    // What systemd would run starts the daemon on that folder.
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ daemon: { port: 0 } }));
    const [node, ...args] = execStart(content);
    const daemon = spawn(node as string, args, { env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' } });
    try {
      await new Promise<void>((resolve, reject) => {
        daemon.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('daemon running') && resolve());
        daemon.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      expect((await cli('service', 'status')).stdout).toMatch(/daemon on .*: running \(pid \d+\)/);
      expect((await cli('daemon', 'stop')).code).toBe(0);
    } finally {
      daemon.kill('SIGKILL');
    }

    const removed = await cli('service', 'uninstall');
    expect(removed.stdout).toContain(`removed ${unit}`);
    await expect(lstat(unit)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await cli('service', 'uninstall')).stdout).toContain('nothing to remove');
    expect((await cli('service', 'status')).code).toBe(1);
  });
});
