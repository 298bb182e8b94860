import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BackupEvent } from '../../src/app/index.js';
import { DaemonClient } from '../../src/daemon/client.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import type { TrayHost } from '../../src/tray/host.js';
import type { TrayAction, TrayMenu } from '../../src/tray/menu.js';
import type { Notification } from '../../src/tray/notifier.js';
import { TrayApp, type TrayEnd } from '../../src/tray/tray-app.js';
import { runDaemonHere } from '../helpers/daemon.js';
import { put, signup, type TestUser } from '../helpers/homeserver.js';

/** The tray's icon and menu without a desktop: records what it is shown, clicks like a person. */
class FakeHost implements TrayHost {
  readonly shown: TrayMenu[] = [];
  private listener: (action: TrayAction) => void = () => {};
  private waiters: Array<() => void> = [];

  async show(menu: TrayMenu): Promise<void> {
    this.shown.push(menu);
    for (const wake of this.waiters.splice(0)) wake();
  }
  onAction(listener: (action: TrayAction) => void): void {
    this.listener = listener;
  }
  onExit(): void {}
  async close(): Promise<void> {}

  get menu(): TrayMenu {
    return this.shown.at(-1) as TrayMenu;
  }

  /** Clicks the entry with this title (in a submenu: the pubky's entry title starts with `within`). */
  click(title: string, within?: string): void {
    const items = within
      ? this.menu.items.find((item) => item.title.startsWith(within))?.items
      : this.menu.items;
    const entry = items?.find((item) => item.title === title);
    if (!entry?.action || !entry.enabled) throw new Error(`no enabled entry "${title}"`);
    this.listener(entry.action);
  }

  /** Waits until the menu shown satisfies `test`. */
  async until(test: (menu: TrayMenu) => boolean, what: string, ms = 20_000): Promise<TrayMenu> {
    const deadline = Date.now() + ms;
    while (!(this.shown.length > 0 && test(this.menu))) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; last: ${this.menu?.items[0]?.title}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return this.menu;
  }
}

let testnet: Testnet;
let alice: TestUser;
let bob: TestUser;
let dataDir: string;

beforeAll(async () => {
  // Bob lives on a second homeserver, whose faults touch only him.
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0, homeservers: 2 });
  alice = await signup(testnet.homeserver);
  bob = await signup(bobsHomeserver());
  await put(testnet.homeserver, alice, '/pub/app/a.txt', 'A');
  await put(bobsHomeserver(), bob, '/pub/app/b.txt', 'B');
  dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-tray-app-'));
  // The in-process daemon must not start a real tray on a developer's desktop.
  await writeFile(join(dataDir, 'config.json'), JSON.stringify({ tray: { enabled: false } }));
});
afterAll(() => testnet.close());

const bobsHomeserver = () => testnet.homeservers[1] as Testnet['homeserver'];

/** A daemon in this process on the test data folder, with its client; `stop` ends it. */
async function startDaemon() {
  const daemon = await runDaemonHere(dataDir, testnet.relay.url);
  return { ...daemon, client: new DaemonClient(daemon.info) };
}

/** Collects the daemon's events from now on. */
function follow(client: DaemonClient) {
  const events: BackupEvent[] = [];
  const stop = new AbortController();
  void client.events(0, (event) => events.push(event), stop.signal);
  const until = async (test: (event: BackupEvent) => boolean, what: string) => {
    const deadline = Date.now() + 20_000;
    while (!events.some(test)) {
      if (Date.now() > deadline) throw new Error(`no event: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { events, until, stop: () => stop.abort() };
}

describe('the tray application (through the control API only)', () => {
  it('waits for the daemon, shows its pubkys, acts through the API, tells errors once, follows a restarted daemon, quits it', {
    timeout: 120_000,
  }, async () => {
    const host = new FakeHost();
    const notified: Notification[] = [];
    const opened: string[] = [];
    const lines: string[] = [];
    const app = new TrayApp({
      dataDir,
      host,
      notify: async (notification) => {
        notified.push(notification);
      },
      open: async (target) => {
        opened.push(target);
      },
      log: (line) => lines.push(line),
      retryMs: 200,
    });
    const outside = new AbortController();
    let ended: TrayEnd | undefined;
    const running = app.run(outside.signal).then((end) => {
      ended = end;
      return end;
    });

    // No daemon yet: the offline icon.
    await host.until((menu) => menu.level === 'offline', 'the offline icon');

    let daemon = await startDaemon();
    await daemon.client.request('POST', '/keys', { pubky: alice.z32, homeserver: testnet.homeserver.url });
    await daemon.client.request('POST', '/keys', { pubky: bob.z32, homeserver: bobsHomeserver().url });
    await host.until(
      (menu) => menu.level === 'synced' && menu.items[0]?.title === 'Synced — 2 pubkys',
      'two synced pubkys',
    );

    // Force sync of one pubky reaches the API: a sync of that pubky shows in the event stream.
    let events = follow(daemon.client);
    await events.until((e) => e.type === 'Started' || e.type === 'KeyAdded', 'the stream');
    const seen = events.events.length;
    host.click('Force sync', alice.z32.slice(0, 8));
    await events.until(
      (e) => events.events.indexOf(e) >= seen && e.type === 'SyncFinished' && e.data.pubky === alice.z32,
      'SyncFinished of the forced pubky',
    );

    // Pause all, Resume all, Open dashboard, Open folder.
    host.click('Pause all');
    await host.until(
      (menu) => menu.level === 'paused' && menu.items[4]?.title === 'Resume all',
      'all paused',
    );
    expect(notified).toEqual([]);
    host.click('Resume all');
    await host.until(
      (menu) => menu.level === 'synced' && menu.items[4]?.title === 'Pause all',
      'all resumed',
    );
    host.click('Open dashboard');
    host.click('Open folder', bob.z32.slice(0, 8));
    await vi.waitFor(() => expect(opened).toHaveLength(2), { timeout: 5000 });
    // The dashboard opens logged in: the daemon's one-time login link.
    const link = new RegExp(`^http://127\\.0\\.0\\.1:${daemon.info.port}/login\\?code=`);
    expect(opened.filter((target) => link.test(target))).toHaveLength(1);
    expect(opened).toContain(join(dataDir, 'keys', bob.z32));

    // Bob's homeserver feed fails (the testnet's fault plan): his key goes to Error, once notified.
    const removeFault = bobsHomeserver().faults.add({
      route: ['events', 'events-stream'],
      fault: { kind: 'status', status: 500 },
    });
    host.click('Force sync', bob.z32.slice(0, 8));
    const failing = await host.until((menu) => menu.level === 'error', 'the error icon', 60_000);
    expect(failing.items[0]?.title).toBe('Error — 2 pubkys · 1 error');
    expect(failing.items.find((item) => item.tooltip === bob.z32)?.title).toMatch(/ — Error: /);
    host.click('Force sync', bob.z32.slice(0, 8));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(notified.map((n) => n.title)).toEqual(['Pubky Backup: backup failing']);
    expect(notified[0]?.message).toContain(bob.z32.slice(0, 8));

    // The feed is back: a Force sync all brings the key back to Synced.
    removeFault();
    host.click('Force sync all');
    await host.until((menu) => menu.level === 'synced', 'back to synced', 60_000);

    // The daemon restarts (new token): the tray goes offline, then follows the new one.
    events.stop();
    await daemon.stop();
    await host.until((menu) => menu.level === 'offline', 'offline after the daemon stopped');
    daemon = await startDaemon();
    await host.until((menu) => menu.items[0]?.title === 'Synced — 2 pubkys', 'the restarted daemon');
    await expect.poll(() => lines.filter((line) => line.startsWith('following the daemon')).length).toBe(2);

    // Quit stops the daemon, then the tray.
    events = follow(daemon.client);
    host.click('Quit');
    expect(await running).toBe('quit');
    await daemon.done;
    events.stop();
    expect(await DaemonClient.connect(dataDir)).toBeUndefined();
    expect(ended).toBe('quit');
    outside.abort();
  });
});
