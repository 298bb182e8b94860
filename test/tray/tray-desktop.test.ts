import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupEvent } from '../../src/app/index.js';
import { DaemonClient } from '../../src/daemon/client.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import type { TrayLevel } from '../../src/tray/status.js';
import { isProcessAlive } from '../../src/util/process-alive.js';
import { BIN, runCli } from '../helpers/cli.js';
import { put, signup, type TestUser } from '../helpers/homeserver.js';
import {
  type Desktop,
  desktopUnavailable,
  differingPixels,
  pixel,
  startDesktop,
  trayLevel,
} from './desktop.js';

/**
 * The real tray on a real (virtual) desktop: Xvfb with trayer's tray panel, the daemon started by
 * the CLI with DISPLAY set (so it starts `pubky-backup tray` itself), screenshots read back for the
 * icon, clicks and keys through xdotool. `SCREENSHOTS=<dir>` keeps the screenshots.
 */
const unavailable = desktopUnavailable();
if (unavailable) console.log(`tray desktop tests skipped: ${unavailable}`);

let desktop: Desktop;
let testnet: Testnet;
let alice: TestUser;
let dataDir: string;
let cacheDir: string;
let shots: string;

beforeAll(async () => {
  if (unavailable) return;
  desktop = await startDesktop();
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
  alice = await signup(testnet.homeserver);
  await put(testnet.homeserver, alice, '/pub/app/a.txt', 'A');
  await put(testnet.homeserver, alice, '/pub/app/b.txt', 'B');
  dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-tray-desktop-'));
  cacheDir = await mkdtemp(join(tmpdir(), 'pubky-backup-tray-bin-'));
  shots = process.env.SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), 'pubky-backup-tray-shots-')));
  await mkdir(shots, { recursive: true });
  const added = await runCli([
    '--data-dir',
    dataDir,
    '--relay',
    testnet.relay.url,
    '--no-dht',
    'add',
    alice.z32,
    '--homeserver',
    testnet.homeserver.url,
  ]);
  expect(added.code).toBe(0);
}, 120_000);
afterAll(async () => {
  if (unavailable) return;
  await testnet?.close();
  await desktop?.close();
});

/** `pubky-backup daemon` on the desktop: it starts the tray itself (tray.enabled is on by default). */
async function startDaemon(): Promise<{
  child: ChildProcess;
  exited: Promise<number | null>;
  client: DaemonClient;
}> {
  const child = spawn(
    process.execPath,
    [BIN, '--data-dir', dataDir, '--relay', testnet.relay.url, '--no-dht', '--json', 'daemon', '--port', '0'],
    {
      env: {
        ...process.env,
        DISPLAY: desktop.display,
        XDG_CACHE_HOME: cacheDir,
        PUBKY_RELAYS: '',
        PUBKY_BACKUP_HOME: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('"ok":true')) resolve();
    });
    void exited.then((code) => reject(new Error(`the daemon exited (${code})`)));
  });
  return { child, exited, client: (await DaemonClient.connect(dataDir)) as DaemonClient };
}

/** Waits until the tray panel shows `level` (undefined: no icon); keeps the screenshot as `name`. */
async function iconShows(level: TrayLevel | undefined, name: string, ms = 60_000): Promise<Buffer> {
  const deadline = Date.now() + ms;
  for (;;) {
    const shot = await desktop.screenshot();
    const seen = trayLevel(shot);
    if (seen.level === level) {
      await writeFile(join(shots, `${name}.png`), shot);
      return shot;
    }
    if (Date.now() > deadline)
      throw new Error(`the tray shows ${seen.level ?? 'no icon'}, not ${level ?? 'no icon'}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Whether the menu is open: below the panel the root window is black, the menu is not. */
async function menuOpen(): Promise<boolean> {
  return pixel(await desktop.screenshot({ width: 640, height: 100 }), 100, 60).join() !== '0,0,0';
}

/** Opens the tray's menu with a click on the icon, then presses the keys (GTK's menu navigation). */
async function menu(keys: string[], shot?: string): Promise<void> {
  const { x, y } = trayLevel(await desktop.screenshot());
  await desktop.xdotool('mousemove', `${Math.round(x)}`, `${Math.round(y)}`, 'click', '1');
  const deadline = Date.now() + 20_000;
  while (!(await menuOpen())) {
    if (Date.now() > deadline) throw new Error('the menu did not open');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (shot)
    await writeFile(join(shots, `${shot}.png`), await desktop.screenshot({ width: 280, height: 195 }));
  for (const key of keys) {
    await desktop.xdotool('key', key);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  while (await menuOpen()) {
    if (Date.now() > deadline) throw new Error('the menu did not close');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The daemon's events from now on. */
function follow(client: DaemonClient) {
  const events: BackupEvent[] = [];
  const stop = new AbortController();
  void client.events(0, (event) => events.push(event), stop.signal);
  return {
    stop: () => stop.abort(),
    /** Waits for an event after the `from`-th one. */
    async next(type: BackupEvent['type'], from: number): Promise<BackupEvent> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const found = events
          .slice(from)
          .find((event) => event.type === type && event.data.pubky === alice.z32);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${type} event`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    get count() {
      return events.length;
    },
  };
}

/** The pid of the tray the daemon started, from the daemon's log. */
async function trayPid(): Promise<number> {
  const logs = join(dataDir, 'logs');
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const file of await readdir(logs).catch(() => [])) {
      const started = [...(await readFile(join(logs, file), 'utf8')).matchAll(/tray started \(pid (\d+)\)/g)];
      const last = started.at(-1)?.[1];
      if (last) return Number(last);
    }
    if (Date.now() > deadline) throw new Error('no tray in the log');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(unavailable)('the tray on a desktop (Xvfb + trayer)', () => {
  it('shows an icon, turns red when the key errors and green when it is back; menu clicks reach the API; Quit stops both', {
    timeout: 240_000,
  }, async () => {
    const empty = await iconShows(undefined, 'empty-panel', 5_000);
    const daemon = await startDaemon();
    const events = follow(daemon.client);
    try {
      // The daemon started the tray: an icon (a screenshot that differs from the empty panel), Synced.
      const synced = await iconShows('synced', 'synced');
      expect(differingPixels(empty, synced)).toBeGreaterThan(100);

      // Force sync all from the menu triggers a sync, visible in the event stream.
      let from = events.count;
      await menu(['Down', 'Down', 'Return'], 'menu');
      await events.next('SyncFinished', from);

      // The testnet's fault plan: the homeserver's feed fails; a forced sync fails; the icon turns red.
      const removeFault = testnet.homeserver.faults.add({
        route: ['events', 'events-stream'],
        fault: { kind: 'status', status: 500 },
      });
      from = events.count;
      await menu(['Down', 'Down', 'Return']);
      await events.next('SyncFailed', from);
      const error = await iconShows('error', 'error');
      expect(differingPixels(synced, error)).toBeGreaterThan(100);

      // The feed is back: Force sync all, and the icon is green again.
      removeFault();
      from = events.count;
      await menu(['Down', 'Down', 'Return']);
      await events.next('SyncFinished', from);
      await iconShows('synced', 'synced-again');

      // Quit (the last entry): the daemon stops, and the icon goes away with the tray.
      const tray = await trayPid();
      await menu(['Up', 'Return']);
      expect(await daemon.exited).toBe(0);
      await iconShows(undefined, 'after-quit', 20_000);
      await expect.poll(() => isProcessAlive(tray), { timeout: 10_000 }).toBe(false);
    } finally {
      events.stop();
      daemon.child.kill('SIGKILL');
    }
  });

  it('the tray dies with its daemon, even after a kill -9', { timeout: 120_000 }, async () => {
    const daemon = await startDaemon();
    await iconShows('synced', 'synced-second-daemon');
    const tray = await trayPid();
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    await expect.poll(() => isProcessAlive(tray), { timeout: 15_000 }).toBe(false);
    await iconShows(undefined, 'after-kill', 15_000);
  });
});
