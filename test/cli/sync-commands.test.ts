import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import { type DemoUser, seedDemo } from '../../src/testnet/demo.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { BIN, runCli } from '../helpers/cli.js';
import { deadRelayUrl } from '../helpers/fake-relay.js';
import { put, signup } from '../helpers/homeserver.js';

let testnet: Testnet;
let demo: DemoUser[];
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
  demo = await seedDemo(testnet);
});
afterAll(() => testnet.close());

const newDataDir = () => mkdtemp(join(tmpdir(), 'pubky-backup-cli-sync-'));
const pkdns = () => ['--relay', testnet.relay.url, '--no-dht'];

async function treeOf(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await treeOf(dir, path)));
    else out.push(path);
  }
  return out.sort();
}

describe('add / sync --once / list / status / remove', () => {
  it('backs up the demo users byte-identical, found through PKDNS', async () => {
    const dataDir = await newDataDir();
    for (const user of demo) {
      const added = await runCli(['--data-dir', dataDir, ...pkdns(), 'add', `pubky${user.pubky}`]);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      expect(added.stdout).toContain(`added ${user.pubky}`);
    }
    const synced = await runCli(['--json', '--data-dir', dataDir, ...pkdns(), 'sync', '--once']);
    expect(synced.code).toBe(0);
    const keys = JSON.parse(synced.stdout).keys;
    const stored = Object.fromEntries(
      keys.map((k: { pubky: string; stored: number }) => [k.pubky, k.stored]),
    );
    expect(stored).toEqual(Object.fromEntries(demo.map((u) => [u.pubky, u.files])));

    for (const user of demo) {
      const local = await treeOf(join(dataDir, 'keys', user.pubky, 'data'));
      const listing = await fetch(`${testnet.homeserver.url}/pub/?limit=1000`, {
        headers: { 'pubky-host': user.pubky },
      });
      const remote = (await listing.text())
        .split('\n')
        .map((line) => line.slice(`pubky://${user.pubky}`.length));
      expect(local).toEqual([...remote].sort());
      for (const path of remote) {
        const served = Buffer.from(
          await (
            await fetch(`${testnet.homeserver.url}${path.split('/').map(encodeURIComponent).join('/')}`, {
              headers: { 'pubky-host': user.pubky },
            })
          ).arrayBuffer(),
        );
        expect(Buffer.compare(await readFile(join(dataDir, 'keys', user.pubky, 'data', path)), served)).toBe(
          0,
        );
      }
    }

    const list = await runCli(['--data-dir', dataDir, 'list']);
    expect(list.code).toBe(0);
    for (const user of demo)
      expect(list.stdout).toMatch(new RegExp(`${user.pubky}\\s+active\\s+${user.files} files`));
    const status = JSON.parse(
      (await runCli(['--json', '--data-dir', dataDir, 'status', demo[0]?.pubky as string])).stdout,
    );
    expect(status.keys[0]).toMatchObject({
      pubky: demo[0]?.pubky,
      files: demo[0]?.files,
      pendingRetries: [],
      paused: null,
    });

    const removed = await runCli(['--data-dir', dataDir, 'remove', demo[2]?.pubky as string]);
    expect(removed.stdout).toContain('data kept');
    expect(
      existsSync(join(dataDir, 'keys', demo[2]?.pubky as string, 'data/pub/pubky.app/profile.json')),
    ).toBe(true);
    expect((await runCli(['--data-dir', dataDir, 'list'])).stdout).toMatch(/removed/);
    const deleted = await runCli([
      '--data-dir',
      dataDir,
      'remove',
      demo[1]?.pubky as string,
      '--delete-data',
    ]);
    expect(deleted.code).toBe(0);
    expect(existsSync(join(dataDir, 'keys', demo[1]?.pubky as string))).toBe(false);
  });

  it('add refuses bad input and an unreachable homeserver, writing nothing', async () => {
    const dataDir = await newDataDir();
    const bad = await runCli(['--data-dir', dataDir, ...pkdns(), 'add', 'not-a-key']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: /);
    const unreachable = await runCli([
      '--data-dir',
      dataDir,
      'add',
      Keypair.random().publicKey.z32,
      '--homeserver',
      await deadRelayUrl(),
    ]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('Cannot reach the homeserver');
    const unknown = await runCli(['--data-dir', dataDir, ...pkdns(), 'add', Keypair.random().publicKey.z32]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No pkarr packet found');
    expect(existsSync(join(dataDir, 'keys'))).toBe(false);
  });

  it('add --homeserver with a pasted /pub/ link: the base address is used, and said', async () => {
    const user = await signup(testnet.homeserver);
    await put(testnet.homeserver, user, '/pub/hello.txt', 'hi');
    const dataDir = await newDataDir();
    const added = await runCli([
      '--data-dir',
      dataDir,
      'add',
      user.z32,
      '--homeserver',
      `${testnet.homeserver.url}/pub/`,
    ]);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`homeserver ${testnet.homeserver.url} `);
    expect(added.stdout).toContain('"/pub/" was dropped');
    const synced = await runCli(['--data-dir', dataDir, 'sync', '--once']);
    expect(synced.code).toBe(0);
    expect(synced.stdout).toContain('1 downloaded');
  });

  it('add --homeserver with an address that is not a homeserver: refused, nothing written', async () => {
    const dataDir = await newDataDir();
    const refused = await runCli([
      '--data-dir',
      dataDir,
      'add',
      Keypair.random().publicKey.z32,
      '--homeserver',
      testnet.relay.url, // answers HTTP, but has no events feed
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('does not answer like a Pubky homeserver');
    expect(existsSync(join(dataDir, 'keys'))).toBe(false);
  });

  it('a user the homeserver does not know yet: add and sync say "waiting", exit 0, no raw 404', async () => {
    const dataDir = await newDataDir();
    const unknown = Keypair.random();
    const added = await runCli([
      '--data-dir',
      dataDir,
      'add',
      unknown.publicKey.z32,
      '--homeserver',
      testnet.homeserver.url,
    ]);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('does not know');
    const synced = await runCli(['--data-dir', dataDir, 'sync', '--once']);
    expect(synced.code).toBe(0);
    expect(synced.stdout).toContain('waiting');
    expect(synced.stdout + synced.stderr).not.toMatch(/404/);
    const json = await runCli(['--data-dir', dataDir, '--json', 'sync', '--once']);
    expect(JSON.parse(json.stdout).keys[0]).toMatchObject({ waiting: true });
    const status = await runCli(['--data-dir', dataDir, 'status']);
    expect(status.stdout).toContain('waiting     the homeserver does not know this pubky yet');
  });

  it('exit code 1 when some files fail, with the reason in status', async () => {
    const user = await signup(testnet.homeserver);
    await put(testnet.homeserver, user, '/pub/ok.txt', 'ok');
    await put(testnet.homeserver, user, '/pub/broken.txt', 'broken');
    const remove = testnet.homeserver.faults.add({
      route: 'read',
      path: '/pub/broken.txt',
      fault: { kind: 'status', status: 500 },
    });
    try {
      const dataDir = await newDataDir();
      await runCli(['--data-dir', dataDir, 'add', user.z32, '--homeserver', testnet.homeserver.url]);
      const synced = await runCli(['--data-dir', dataDir, 'sync', '--once']);
      expect(synced.code).toBe(1);
      expect(synced.stdout).toContain('1 failing');
      const status = await runCli(['--data-dir', dataDir, 'status']);
      expect(status.stdout).toContain('/pub/broken.txt');
    } finally {
      remove();
    }
  });

  it('a second sync on the same data folder gets a clear "already running" error', async () => {
    const user = await signup(testnet.homeserver);
    const dataDir = await newDataDir();
    await runCli(['--data-dir', dataDir, 'add', user.z32, '--homeserver', testnet.homeserver.url]);
    const first = spawn(process.execPath, [BIN, '--data-dir', dataDir, 'sync'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise((resolve) => first.stderr.once('data', resolve));
      const second = await runCli(['--data-dir', dataDir, 'sync', '--once']);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain('already running');
      expect(second.stderr).toContain(String(first.pid));
    } finally {
      first.kill('SIGTERM');
    }
    const [code] = await once(first, 'exit');
    expect(code).toBe(0);
    expect(existsSync(join(dataDir, 'instance.lock'))).toBe(false);
  });

  it('reindex rebuilds a lost index from the files on disk', async () => {
    const user = await signup(testnet.homeserver);
    await put(testnet.homeserver, user, '/pub/one.txt', 'one');
    await put(testnet.homeserver, user, '/pub/two/2.txt', 'two!');
    const dataDir = await newDataDir();
    await runCli(['--data-dir', dataDir, 'add', user.z32, '--homeserver', testnet.homeserver.url]);
    await runCli(['--data-dir', dataDir, 'sync', '--once']);
    const { rm } = await import('node:fs/promises');
    await rm(join(dataDir, 'keys', user.z32, 'state', 'index.jsonl'));
    const lost = JSON.parse((await runCli(['--json', '--data-dir', dataDir, 'status', user.z32])).stdout);
    expect(lost.keys[0].files).toBe(0);
    const reindexed = await runCli(['--json', '--data-dir', dataDir, 'reindex', user.z32]);
    expect(reindexed.code).toBe(0);
    expect(JSON.parse(reindexed.stdout)).toMatchObject({ files: 2, bytes: 7 });
    const status = JSON.parse((await runCli(['--json', '--data-dir', dataDir, 'status', user.z32])).stdout);
    expect(status.keys[0]).toMatchObject({ files: 2, bytes: 7 });
  });

  it('resume --accept-deletes on a key that is not paused says so', async () => {
    const user = await signup(testnet.homeserver);
    const dataDir = await newDataDir();
    await runCli(['--data-dir', dataDir, 'add', user.z32, '--homeserver', testnet.homeserver.url]);
    const resumed = await runCli(['--data-dir', dataDir, 'resume', user.z32, '--accept-deletes']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain('is not paused');
  });
});
