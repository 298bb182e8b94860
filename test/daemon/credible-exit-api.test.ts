import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupEvent } from '../../src/app/index.js';
import { signAuthToken } from '../../src/homeserver/auth-token.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { runCli } from '../helpers/cli.js';
import { startDaemonProcess } from '../helpers/daemon.js';
import { put, signup, type TestUser } from '../helpers/homeserver.js';

// Verify, restore and migrate through a running daemon: the API routes the dashboard uses, and
// the CLI's migrate handing its work to the daemon (which stops syncing the pubky meanwhile and
// follows the new homeserver afterwards).
let testnet: Testnet;
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0, homeservers: 2 });
});
afterAll(() => testnet.close());

const pkdns = () => ['--relay', testnet.relay.url, '--no-dht'];

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Signs an existing user in on a homeserver (a session cookie for `put`). */
async function signin(hs: Homeserver, user: TestUser): Promise<TestUser> {
  const response = await fetch(`${hs.url}/session`, {
    method: 'POST',
    headers: { 'pubky-host': hs.publicKey.z32 },
    body: signAuthToken(user.keypair),
  });
  expect(response.status).toBe(200);
  return { ...user, cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '' };
}

describe('credible exit through the daemon', { timeout: 120_000 }, () => {
  it('verify over the API; restore plan and refusals; the CLI migrate runs in the daemon, which then follows the new homeserver', async () => {
    const [a, b] = testnet.homeservers as [Homeserver, Homeserver];
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-exit-api-'));
    const user = await signup(a);
    for (const name of ['one', 'two', 'three']) await put(a, user, `/pub/app/${name}.txt`, `${name} bytes`);
    // A long history on A: the backup's cursor there ends far above the event ids B will give
    // this user, so a live stream opened with A's cursor would stay silent on B.
    for (let i = 0; i < 30; i++) await put(a, user, '/pub/app/one.txt', `one bytes, take ${i}`);
    // No poll to rescue a silent stream within the test's time: only the live stream counts.
    expect((await runCli(['--data-dir', dataDir, 'config', 'set', 'syncIntervalSeconds', '3600'])).code).toBe(
      0,
    );
    const { child, client } = await startDaemonProcess(dataDir, pkdns());
    const events: BackupEvent[] = [];
    const following = new AbortController();
    void client.events(0, (event) => events.push(event), following.signal);
    try {
      const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...pkdns(), ...args]);
      expect((await cli('add', user.z32, '--homeserver', a.url)).code).toBe(0);
      const mirror = join(dataDir, 'keys', user.z32, 'data/pub/app');
      // Backed up when the index records all three (each file lands on disk a moment before).
      await waitFor('the first backup', async () => {
        const { key } = await client.request<{ key: { files: number } }>('GET', `/keys/${user.z32}`);
        return key.files === 3;
      });

      // Verify through the API: identical, report kept, VerifyFinished published.
      const { report } = await client.request<{ report: Record<string, unknown> }>(
        'POST',
        `/keys/${user.z32}/verify`,
        {},
      );
      expect(report).toMatchObject({
        outcome: 'identical',
        counts: { identical: 3, missing: 0, changed: 0 },
      });
      expect(existsSync(report.report as string)).toBe(true);
      await waitFor('VerifyFinished', () => events.some((e) => e.type === 'VerifyFinished'));
      // The CLI's verify runs beside the daemon too.
      expect((await cli('verify', user.z32)).code).toBe(0);

      // A restore plan needs no key; a real run without one says what is needed; a key of
      // somebody else is refused before anything is sent.
      const plan = await client.request<{ result: Record<string, unknown> }>(
        'POST',
        `/keys/${user.z32}/restore`,
        { to: b.url, dryRun: true },
      );
      expect(plan.result).toMatchObject({ dryRun: true, files: 3, uploaded: 3 });
      await expect(client.request('POST', `/keys/${user.z32}/restore`, { to: b.url })).rejects.toMatchObject({
        code: 'KEY_REQUIRED',
      });
      const stranger = await signup(a);
      await expect(
        client.request('POST', `/keys/${user.z32}/restore`, {
          to: b.url,
          secretKey: Buffer.from(stranger.keypair.secretKey()).toString('hex'),
        }),
      ).rejects.toMatchObject({ code: 'KEY_MISMATCH' });

      // Migrate from the CLI, beside the daemon: it runs in the daemon.
      const keyFile = join(dataDir, '..', `${user.z32.slice(0, 8)}.secret`);
      await writeFile(keyFile, Buffer.from(user.keypair.secretKey()).toString('hex'), { mode: 0o600 });
      const migrated = await cli(
        '--json',
        'migrate',
        user.z32,
        '--to',
        b.publicKey.z32,
        '--secret-key-file',
        keyFile,
      );
      expect(migrated.code, migrated.stderr).toBe(0);
      const result = JSON.parse(migrated.stdout);
      expect(result.complete).toBe(true);
      expect(result.verify.outcome).toBe('identical');
      const steps = events
        .filter((e) => e.type === 'MigrateStep' && e.data.status === 'done')
        .map((e) => e.data.step);
      expect(steps).toEqual(['check', 'signup', 'restore', 'publish', 'repoint', 'verify']);
      expect(events.some((e) => e.type === 'MigrateFinished' && e.data.complete === true)).toBe(true);

      // The activity feed tells both.
      const { activity } = await client.request<{ activity: Array<{ type: string }> }>(
        'GET',
        `/keys/${user.z32}/activity?last=50`,
      );
      expect(activity.map((entry) => entry.type)).toEqual(expect.arrayContaining(['verified', 'migrated']));

      // The daemon follows B now: a file written there is backed up without any CLI sync.
      const { key } = await client.request<{ key: { homeserver: string } }>('GET', `/keys/${user.z32}`);
      expect(key.homeserver).toContain(String(new URL(b.url).port));
      const onB = await signin(b, user);
      await put(b, onB, '/pub/app/after.txt', 'written on B');
      await waitFor(
        'a file written on B after the migrate',
        () => existsSync(join(mirror, 'after.txt')),
        40_000,
      );
      expect(await readFile(join(mirror, 'after.txt'), 'utf8')).toBe('written on B');
    } finally {
      following.abort();
      child.kill('SIGTERM');
      await child.done;
    }
  });
});
