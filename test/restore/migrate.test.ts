import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { HomeserverClient } from '../../src/homeserver/index.js';
import { Keypair, parsePubky } from '../../src/identity/index.js';
import {
  fileResolutionStore,
  getFromRelay,
  homeserverOf,
  PkdnsError,
  PkdnsResolver,
  pubkyRecord,
  putToRelay,
  SignedPacket,
} from '../../src/pkdns/index.js';
import { migrate, RestoreError, readMigrateRecord, resolveTarget } from '../../src/restore/index.js';
import { FileIndex, KeyLayout, readKeyConfig, writeKeyConfig } from '../../src/store/index.js';
import { SyncManager } from '../../src/sync/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { caught } from '../helpers/errors.js';
import { deadRelayUrl } from '../helpers/fake-relay.js';
import { put, signup, type TestUser } from '../helpers/homeserver.js';
import { backupOf } from '../helpers/sync.js';

// migrate core: two homeservers and a relay; the backup follows the user from A to B.
let testnet: Testnet;
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0, homeservers: 2 });
});
afterAll(() => testnet.close());
const A = () => testnet.homeservers[0] as (typeof testnet.homeservers)[number];
const B = () => testnet.homeservers[1] as (typeof testnet.homeservers)[number];

const FILES = {
  '/pub/app/a.txt': 'alpha',
  '/pub/app/b.txt': 'bravo',
  '/pub/notes': 'n',
  '/pub/notes/today': 't',
};

/** A user on A with `_pubky` → A (plus a TXT record to keep), files, and a backup of them. */
async function backedUpUser(pinned: boolean) {
  const keypair = Keypair.random();
  await putToRelay(
    testnet.relay.url,
    SignedPacket.build(keypair, [
      pubkyRecord(A().publicKey),
      { name: '.', ttl: 300, type: 'TXT', data: ['keep me'] },
    ]),
  );
  const user: TestUser = await signup(A(), { keypair });
  for (const [path, body] of Object.entries(FILES)) await put(A(), user, path, body);
  const dataDir = pinned
    ? await backupOf([{ hs: A(), user }])
    : await mkdtemp(join(tmpdir(), 'pubky-backup-migrate-'));
  const layout = new KeyLayout(dataDir, user.z32);
  if (!pinned) {
    await mkdir(layout.stateDir, { recursive: true });
    await writeKeyConfig(layout.keyConfigFile, { pubky: user.z32, addedAt: new Date().toISOString() });
  }
  const resolver = newResolver(dataDir);
  const manager = await SyncManager.open({
    dataDir,
    config: DEFAULT_CONFIG,
    pubkys: [user.z32],
    locate: async (pubky) => {
      const resolution = await resolver.resolveHomeserver(parsePubky(pubky));
      return { url: resolution.endpoints[0]?.url as string, identity: resolution.homeserver as string };
    },
  });
  const [report] = await manager.syncOnce();
  expect(report).toMatchObject({ stored: 4 });
  return { keypair, user, dataDir, layout };
}

function newResolver(dataDir: string, relays = [testnet.relay.url]) {
  return new PkdnsResolver({
    relays,
    store: fileResolutionStore((user) => {
      const dir = join(dataDir, 'keys', user);
      return existsSync(dir) ? join(dir, 'state', 'homeserver.json') : undefined;
    }),
  });
}

async function runMigrate(
  setup: Awaited<ReturnType<typeof backedUpUser>>,
  options: { relays?: string[]; dryRun?: boolean } = {},
) {
  const resolver = newResolver(setup.dataDir);
  const target = await resolveTarget(B().publicKey.z32, async () => resolver);
  return migrate({
    layout: setup.layout,
    target,
    client: new HomeserverClient({ baseUrl: target.url }),
    keypair: setup.keypair,
    sourceText: 'mirror',
    sourceSpec: { kind: 'mirror' },
    concurrency: 4,
    publish: { relays: options.relays ?? [testnet.relay.url] },
    resolver,
    dryRun: options.dryRun,
  });
}

describe('migrate', () => {
  it('an unpinned key: every step recorded; _pubky → B with the other records kept; the next sync downloads nothing', async () => {
    const setup = await backedUpUser(false);
    const plan = await runMigrate(setup, { dryRun: true });
    expect(plan.steps.map((s) => s.step)).toEqual([
      'check',
      'signup',
      'restore',
      'publish',
      'repoint',
      'verify',
    ]);
    expect(plan.restore).toMatchObject({ dryRun: true, uploaded: 4 });
    expect(B().state.users.has(setup.user.z32)).toBe(false);
    expect(await readMigrateRecord(setup.layout)).toBeUndefined();

    const result = await runMigrate(setup);
    expect(result.complete).toBe(true);
    expect(result.steps.every((s) => s.status === 'done')).toBe(true);
    expect(result.verify?.outcome).toBe('identical');
    expect(result.verify?.cursor.fromOtherHomeserver).toBe(true);
    const packet = (await getFromRelay(testnet.relay.url, setup.keypair.publicKey)) as SignedPacket;
    expect(homeserverOf(packet)?.z32).toBe(B().publicKey.z32);
    expect(packet.recordsNamed('.')).toEqual([{ name: '.', ttl: 300, type: 'TXT', data: ['keep me'] }]);
    const record = await readMigrateRecord(setup.layout);
    expect(record?.finishedAt).toBeDefined();
    expect(record?.before).toMatchObject({ homeserver: A().publicKey.z32 });
    const keyConfig = await readKeyConfig(setup.layout.keyConfigFile, setup.user.z32);
    expect(keyConfig.homeserverUrl).toBeUndefined();
    expect(keyConfig.syncedFrom).toBe(A().publicKey.z32);
    const stored = JSON.parse(await readFile(setup.layout.homeserverFile, 'utf8'));
    expect(stored.homeserver).toBe(B().publicKey.z32);

    // The backup follows B: reconciled by listing, each file answered 304, nothing downloaded.
    await A().stop();
    try {
      const resolver = newResolver(setup.dataDir);
      const manager = await SyncManager.open({
        dataDir: setup.dataDir,
        config: DEFAULT_CONFIG,
        pubkys: [setup.user.z32],
        locate: async () => {
          const r = await resolver.resolveHomeserver(setup.keypair.publicKey);
          return { url: r.endpoints[0]?.url as string, identity: r.homeserver as string };
        },
      });
      const [report] = await manager.syncOnce();
      expect(report).toMatchObject({ stored: 0, unchanged: 4 });
      expect((await readKeyConfig(setup.layout.keyConfigFile, setup.user.z32)).syncedFrom).toBe(
        B().publicKey.z32,
      );
    } finally {
      await A().resume();
    }
    // Migrating again to where the backup already is: said plainly.
    expect((await caught(runMigrate(setup), RestoreError)).code).toBe('ALREADY_THERE');
  });

  it('a pinned key is pinned to the new URL; a failed publish is resumed there, nothing uploaded again', async () => {
    const setup = await backedUpUser(true);
    // As an older homeserver would have sent them: hex ETags, which the new one would not match.
    const index = await FileIndex.open(setup.layout.indexFile);
    for (const entry of index.entries()) {
      index.set({ ...entry, etag: Buffer.from(entry.blake3, 'base64').toString('hex') });
    }
    await index.flush();
    const dead = await deadRelayUrl();
    const failed = await caught(runMigrate(setup, { relays: [dead] }), PkdnsError);
    expect(failed.code).toBe('PUBLISH_FAILED');
    const record = await readMigrateRecord(setup.layout);
    expect(record?.steps.restore?.status).toBe('done');
    expect(record?.steps.publish).toMatchObject({ status: 'failed' });
    const puts = () =>
      B()
        .state.eventsOf(setup.user.z32)
        .filter((e) => e.type === 'PUT').length;
    expect(puts()).toBe(4);

    const resumed = await runMigrate(setup);
    expect(resumed).toMatchObject({ complete: true, resumedAt: 'publish' });
    expect(resumed.restore).toBeUndefined();
    expect(puts()).toBe(4);
    const keyConfig = await readKeyConfig(setup.layout.keyConfigFile, setup.user.z32);
    expect(keyConfig).toMatchObject({ homeserverUrl: resumed.target.url, syncedFrom: A().url });
    // If-None-Match of the next sync carries what the new homeserver sends: base64 BLAKE3.
    for (const entry of (await FileIndex.open(setup.layout.indexFile)).entries())
      expect(entry.etag).toBe(entry.blake3);
    expect(resumed.target.url).toBe(`http://localhost:${B().port}`);
  });
});
