import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { runCli } from '../helpers/cli.js';
import { startDaemonProcess } from '../helpers/daemon.js';
import { put, signup } from '../helpers/homeserver.js';
import { duplicateVersions, identicalToHomeserver, seed } from '../reliability/harness.js';

let testnet: Testnet;
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
});
afterAll(() => testnet.close());

const pkdns = () => ['--relay', testnet.relay.url, '--no-dht'];

const startDaemon = (dataDir: string) => startDaemonProcess(dataDir, pkdns());

describe('the CLI beside a running daemon', () => {
  it('add, sync, status, list, snapshot create and check go through the daemon; daemon status and stop', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-daemon-cli-'));
    const { child, ready } = await startDaemon(dataDir);
    try {
      const user = await signup(testnet.homeserver);
      await put(testnet.homeserver, user, '/pub/app/a.txt', 'A');
      const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...pkdns(), ...args]);

      const added = await cli('add', user.z32, '--homeserver', testnet.homeserver.url);
      expect(added.code).toBe(0);
      // The key appears in the running daemon at once and is backed up without a CLI sync.
      const deadline = Date.now() + 10_000;
      while (!existsSync(join(dataDir, 'keys', user.z32, 'data/pub/app/a.txt'))) {
        if (Date.now() > deadline) throw new Error('the daemon did not back up the added key');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await put(testnet.homeserver, user, '/pub/app/b.txt', 'B');
      const synced = await cli('--json', 'sync', '--once');
      expect(synced.code).toBe(0);
      expect(existsSync(join(dataDir, 'keys', user.z32, 'data/pub/app/b.txt'))).toBe(true);

      const list = JSON.parse((await cli('--json', 'list')).stdout);
      expect(list.keys[0]).toMatchObject({
        pubky: user.z32,
        files: 2,
        live: expect.objectContaining({ state: expect.any(String) }),
      });
      const status = await cli('status');
      expect(status.stdout).toContain(user.z32);
      expect((await cli('snapshot', 'create')).code).toBe(0);
      expect((await cli('check')).code).toBe(0);
      // What needs the data folder to itself says who holds it.
      const reindex = await cli('reindex', user.z32);
      expect(reindex.code).toBe(2);
      expect(reindex.stderr).toContain(`process ${ready.pid} (daemon)`);

      const daemonStatus = await cli('daemon', 'status');
      expect(daemonStatus.stdout).toContain(`running: pid ${ready.pid}`);
      const stopped = await cli('daemon', 'stop');
      expect(stopped.code).toBe(0);
      expect((await child.done).code).toBe(0);
      expect(existsSync(join(dataDir, 'daemon.json'))).toBe(false);
      expect((await cli('daemon', 'status')).stdout).toContain('not running');
      const logs = await cli('logs');
      expect(logs.stdout).toContain('daemon started');
      expect(logs.stdout).toContain('KeyAdded');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('SIGTERM under load: stops within 5 s, nothing half-written; kill -9 and restart: continues where it was', {
    timeout: 120_000,
  }, async () => {
    const user = await signup(testnet.homeserver);
    await seed(testnet.homeserver, user, 300, 1_000, 40_000);
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-daemon-stop-'));
    const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...pkdns(), ...args]);
    expect((await cli('add', user.z32, '--homeserver', testnet.homeserver.url)).code).toBe(0);
    const remove = testnet.homeserver.faults.add({
      route: 'read',
      user: user.z32,
      fault: { kind: 'latency', ms: 40 },
    });
    try {
      const first = await startDaemon(dataDir);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // in the middle of the first backup
      const sent = Date.now();
      first.child.kill('SIGTERM');
      const exit = await first.child.done;
      expect(exit.code).toBe(0);
      expect(Date.now() - sent).toBeLessThan(5_000);
      expect(existsSync(join(dataDir, 'instance.lock'))).toBe(false);
      expect(existsSync(join(dataDir, 'keys', user.z32, 'state/write.lock'))).toBe(false);

      const second = await startDaemon(dataDir);
      await new Promise((resolve) => setTimeout(resolve, 800));
      second.child.kill('SIGKILL');
      await second.child.done;

      const third = await startDaemon(dataDir);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const status = JSON.parse((await cli('--json', 'list')).stdout);
        if (status.keys[0]?.files === 300 && status.keys[0]?.live?.state === 'idle') break;
        if (Date.now() > deadline) throw new Error(`not complete: ${JSON.stringify(status.keys[0])}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      third.child.kill('SIGTERM');
      await third.child.done;
    } finally {
      remove();
    }
    expect(await identicalToHomeserver(dataDir, testnet.homeserver, user)).toEqual([]);
    expect(await duplicateVersions(dataDir, user)).toEqual([]);
  });
});

describe('one error type: usage errors, --json on every path, one bad key never hides the others', () => {
  it('usage mistakes exit 2 and answer JSON with --json', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-usage-'));
    for (const args of [
      ['add'],
      ['sync', '--bogus'],
      ['snapshot', 'prune', '--keep-last', '0'],
      ['versions', 'restore', 'x'],
    ]) {
      const human = await runCli(['--data-dir', dataDir, ...args]);
      expect(human.code, args.join(' ')).toBe(2);
      const json = await runCli(['--data-dir', dataDir, '--json', ...args]);
      expect(json.code, args.join(' ')).toBe(2);
      expect(JSON.parse(json.stdout)).toMatchObject({
        ok: false,
        error: { code: expect.any(String), message: expect.any(String) },
      });
    }
  });

  it('a damaged key.json or cursor in one key: list and status show every key, that one with its problem, no stack trace', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-badkey-'));
    const good = await signup(testnet.homeserver);
    const bad = await signup(testnet.homeserver);
    for (const user of [good, bad]) {
      expect(
        (await runCli(['--data-dir', dataDir, 'add', user.z32, '--homeserver', testnet.homeserver.url])).code,
      ).toBe(0);
    }
    await writeFile(join(dataDir, 'keys', bad.z32, 'state/key.json'), '{ not json');
    await writeFile(join(dataDir, 'keys', bad.z32, 'state/cursor'), 'garbage');
    const list = await runCli(['--data-dir', dataDir, '--json', 'list']);
    expect(list.code).toBe(0);
    const keys = JSON.parse(list.stdout).keys;
    expect(keys.map((k: { pubky: string }) => k.pubky).sort()).toEqual([good.z32, bad.z32].sort());
    expect(keys.find((k: { pubky: string }) => k.pubky === bad.z32).error.code).toBe('KEY_STATE_INVALID');
    const status = await runCli(['--data-dir', dataDir, 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(good.z32);
    expect(status.stdout).toMatch(/DAMAGED .*key\.json/);
    expect(status.stderr).not.toMatch(/\n\s+at /);
    // sync: the good key is backed up, the bad one reports its error with a code.
    const sync = await runCli(['--data-dir', dataDir, '--json', 'sync', '--once']);
    expect(sync.code).toBe(2);
    const results = JSON.parse(sync.stdout);
    expect(results.ok).toBe(false);
    expect(results.keys.find((k: { pubky: string }) => k.pubky === good.z32)).toMatchObject({ stored: 0 });
    expect(results.keys.find((k: { pubky: string }) => k.pubky === bad.z32).error.code).toBe(
      'KEY_STATE_INVALID',
    );
    expect(await readFile(join(dataDir, 'keys', bad.z32, 'state/key.json'), 'utf8')).toBe('{ not json');
  });

  it('a read-only data folder: a plain message, no stack trace', async () => {
    const { chmod, mkdir } = await import('node:fs/promises');
    const parent = await mkdtemp(join(tmpdir(), 'pubky-backup-ro-'));
    const dataDir = join(parent, 'data');
    await mkdir(dataDir);
    await chmod(dataDir, 0o555);
    try {
      const added = await runCli([
        '--data-dir',
        dataDir,
        'add',
        (await signup(testnet.homeserver)).z32,
        '--homeserver',
        testnet.homeserver.url,
      ]);
      if (process.getuid?.() === 0) return; // root writes anyway: nothing to see
      expect(added.code).toBe(2);
      expect(added.stderr).toMatch(/^error: Cannot mkdir here: permission denied/);
      expect(added.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await chmod(dataDir, 0o755);
    }
  });
});

describe('moving the backup from the CLI', () => {
  it('without a daemon, then through one: location, move-backup, syncing goes on in the new place', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-move-cli-'));
    const elsewhere = await mkdtemp(
      join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pubky-backup-move-cli-'),
    );
    const user = await signup(testnet.homeserver);
    await put(testnet.homeserver, user, '/pub/app/a.txt', 'A');
    const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...pkdns(), ...args]);
    expect((await cli('add', user.z32, '--homeserver', testnet.homeserver.url)).code).toBe(0);
    expect((await cli('sync', '--once')).code).toBe(0);

    const first = join(elsewhere, 'one');
    const moved = await cli('--json', 'move-backup', first);
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ ok: true, to: first, files: expect.any(Number) });
    expect((await cli('location')).stdout.trim()).toBe(first);
    expect(await readFile(join(first, user.z32, 'data/pub/app/a.txt'), 'utf8')).toBe('A');
    const busy = await cli('--json', 'move-backup', join(first, 'inside'));
    expect(busy.code).toBe(2);
    expect(JSON.parse(busy.stdout).error.code).toBe('TARGET_INSIDE_BACKUP');

    const { child } = await startDaemon(dataDir);
    try {
      const second = join(elsewhere, 'two');
      const through = await cli('--json', 'move-backup', second);
      expect(through.code, through.stderr).toBe(0);
      expect(existsSync(first)).toBe(false);
      await put(testnet.homeserver, user, '/pub/app/b.txt', 'B');
      const deadline = Date.now() + 15_000;
      while (!existsSync(join(second, user.z32, 'data/pub/app/b.txt'))) {
        if (Date.now() > deadline) {
          const { readdirSync, readFileSync } = await import('node:fs');
          for (const f of readdirSync(join(dataDir, 'logs')))
            console.log(readFileSync(join(dataDir, 'logs', f), 'utf8'));
          console.log(through.stdout, through.stderr, (await cli('--json', 'status')).stdout);
          throw new Error('the daemon did not sync into the new place');
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      child.kill('SIGTERM');
      await child.done;
    }
  });
});
