import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasGraphicalSession, TrayLauncher, trayDecision } from '../../src/daemon/tray-child.js';
import { isProcessAlive } from '../../src/util/process-alive.js';

/** Stands in for `pubky-backup tray`: records how it was started, lives until told or orphaned. */
const FAKE_TRAY = `
const { writeFileSync } = require('node:fs');
writeFileSync(process.env.FAKE_TRAY_OUT, JSON.stringify({ argv: process.argv.slice(2), pid: process.pid, ipc: process.connected }));
console.log('tray running');
console.error('error: something the daemon should log as a warning');
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1000);
`;

async function fakeTray() {
  const dir = await mkdtemp(join(tmpdir(), 'pubky-backup-fake-tray-'));
  const script = join(dir, 'fake-tray.cjs');
  await writeFile(script, FAKE_TRAY);
  const out = join(dir, 'started.json');
  const started = async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return JSON.parse(await readFile(out, 'utf8')) as { argv: string[]; pid: number; ipc: boolean };
      } catch {
        if (Date.now() > deadline) throw new Error('the fake tray did not start');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  return { dir, script, out, started };
}

async function until(test: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the daemon starts the tray', () => {
  it('only with a graphical session: DISPLAY or WAYLAND_DISPLAY on Linux, always on macOS and Windows', () => {
    expect(hasGraphicalSession({}, 'linux')).toBe(false);
    expect(hasGraphicalSession({ DISPLAY: ' ' }, 'linux')).toBe(false);
    expect(hasGraphicalSession({ DISPLAY: ':0' }, 'linux')).toBe(true);
    expect(hasGraphicalSession({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toBe(true);
    expect(hasGraphicalSession({}, 'freebsd')).toBe(false);
    expect(hasGraphicalSession({}, 'darwin')).toBe(true);
    expect(hasGraphicalSession({}, 'win32')).toBe(true);
    expect(trayDecision(true, { DISPLAY: ':0' }, 'linux')).toEqual({
      start: true,
      reason: 'graphical session found',
    });
    expect(trayDecision(false, { DISPLAY: ':0' }, 'linux')).toEqual({
      start: false,
      reason: 'tray.enabled is false',
    });
    expect(trayDecision(true, {}, 'linux').start).toBe(false);
    expect(trayDecision(true, {}, 'darwin').start).toBe(true);
  });

  it('spawns `tray --data-dir` with an IPC channel, logs what it says, stops it, follows tray.enabled', async () => {
    const fake = await fakeTray();
    const logged: string[] = [];
    const launcher = new TrayLauncher({
      dataDir: '/data/dir',
      command: [process.execPath, fake.script],
      env: { ...process.env, DISPLAY: ':42', FAKE_TRAY_OUT: fake.out },
      platform: 'linux',
      log: (level, message) => logged.push(`${level} ${message}`),
    });
    await launcher.apply(true);
    const started = await fake.started();
    expect(started.argv).toEqual(['--data-dir', '/data/dir', 'tray']);
    expect(started.ipc).toBe(true);
    await launcher.apply(true); // already running: not a second one
    await until(() => logged.some((line) => line.startsWith('warn tray: error:')), 'the tray lines logged');
    expect(logged).toContain('info tray: tray running');
    expect(logged.filter((line) => line.startsWith('info tray started'))).toHaveLength(1);

    await launcher.apply(false); // tray.enabled set to false at run time
    expect(isProcessAlive(started.pid)).toBe(false);
    expect(launcher.process).toBeUndefined();
    expect(logged).toContain('info tray not started: tray.enabled is false');
  });

  it('never without a desktop', async () => {
    const logged: string[] = [];
    const launcher = new TrayLauncher({
      dataDir: '/data/dir',
      command: [process.execPath, '-e', 'throw new Error("must not run")'],
      env: {},
      platform: 'linux',
      log: (level, message) => logged.push(`${level} ${message}`),
    });
    await launcher.apply(true);
    expect(launcher.process).toBeUndefined();
    expect(logged).toEqual([
      'info tray not started: no graphical session (DISPLAY and WAYLAND_DISPLAY are not set)',
    ]);
  });

  it('the tray dies with the daemon, even after a kill -9 of the daemon', async () => {
    const fake = await fakeTray();
    // A stand-in daemon: the built launcher in a process of its own.
    const module = pathToFileURL(join(import.meta.dirname, '../../dist/daemon/tray-child.js')).href;
    const daemon = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { TrayLauncher } from ${JSON.stringify(module)};
         const launcher = new TrayLauncher({ dataDir: '/d', command: [process.execPath, ${JSON.stringify(fake.script)}], log: () => {} });
         await launcher.apply(true);
         setInterval(() => {}, 1000);`,
      ],
      { env: { ...process.env, DISPLAY: ':42', FAKE_TRAY_OUT: fake.out }, stdio: 'ignore' },
    );
    const started = await fake.started();
    expect(isProcessAlive(started.pid)).toBe(true);
    daemon.kill('SIGKILL');
    await until(() => !isProcessAlive(started.pid), 'the orphaned tray to exit');
  });
});
