import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import { pubkyRecord, putToRelay, SignedPacket } from '../../src/pkdns/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { runCli } from '../helpers/cli.js';
import { deadRelayUrl } from '../helpers/fake-relay.js';

let testnet: Testnet;
let user: Keypair;
let dataDir: string;
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
  user = Keypair.random();
  await putToRelay(testnet.relay.url, SignedPacket.build(user, [pubkyRecord(testnet.homeserver.publicKey)]));
  dataDir = await mkdtemp(join(tmpdir(), 'pubky-resolve-'));
});
afterAll(() => testnet.close());

/**
 * `pubky-backup [--json] --data-dir <dataDir> --relay <relay> <--no-dht | --dht-bootstrap …> resolve <target>`,
 * with this file's testnet relay and the DHT off unless `dhtBootstrap` nodes are given.
 */
function resolve(target: string, options: { json?: boolean; relay?: string; dhtBootstrap?: string[] } = {}) {
  return runCli([
    ...(options.json ? ['--json'] : []),
    '--data-dir',
    dataDir,
    '--relay',
    options.relay ?? testnet.relay.url,
    ...(options.dhtBootstrap
      ? options.dhtBootstrap.flatMap((node) => ['--dht-bootstrap', node])
      : ['--no-dht']),
    'resolve',
    target,
  ]);
}

describe('pubky-backup resolve', () => {
  it('prints the homeserver, its endpoint and the source', async () => {
    const result = await resolve(`pk:${user.publicKey.z32}`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`homeserver  ${testnet.homeserver.publicKey.z32}`);
    expect(result.stdout).toContain(`http://localhost:${testnet.homeserver.port} (priority 10)`);
    expect(result.stdout).toContain(`source      relay ${testnet.relay.url}`);
  });

  it('--json, and an added key’s resolution is kept in keys/<z32>/state/homeserver.json', async () => {
    await mkdir(join(dataDir, 'keys', user.publicKey.z32), { recursive: true });
    const result = await resolve(user.publicKey.z32, { json: true });
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({
      ok: true,
      user: user.publicKey.z32,
      homeserver: testnet.homeserver.publicKey.z32,
      endpoints: [{ url: `http://localhost:${testnet.homeserver.port}` }],
      source: 'relay',
    });
    const saved = JSON.parse(
      await readFile(join(dataDir, 'keys', user.publicKey.z32, 'state', 'homeserver.json'), 'utf8'),
    );
    expect(saved.homeserver).toBe(testnet.homeserver.publicKey.z32);
    // Offline afterwards: the relay is unreachable, the cached answer still works.
    const offline = await resolve(user.publicKey.z32, { json: true, relay: await deadRelayUrl() });
    expect(JSON.parse(offline.stdout)).toMatchObject({
      source: 'cache',
      homeserver: testnet.homeserver.publicKey.z32,
    });
  });

  it('add through PKDNS keeps the answer at once: list shows the homeserver right after add', async () => {
    const other = Keypair.random();
    await putToRelay(
      testnet.relay.url,
      SignedPacket.build(other, [pubkyRecord(testnet.homeserver.publicKey)]),
    );
    const fresh = await mkdtemp(join(tmpdir(), 'pubky-resolve-add-'));
    const flags = ['--data-dir', fresh, '--relay', testnet.relay.url, '--no-dht'];
    const added = await runCli([...flags, 'add', other.publicKey.z32]);
    expect(added.code, added.stderr).toBe(0);
    const list = JSON.parse((await runCli([...flags, '--json', 'list'])).stdout);
    expect(list.keys[0].homeserver).toBe(`http://localhost:${testnet.homeserver.port}`);
  });

  it('a pubky with no packet: exit 2 and which sources were tried', async () => {
    const nobody = Keypair.random().publicKey.z32;
    const result = await resolve(nobody);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`No pkarr packet found for ${nobody}`);
    expect(result.stderr).toContain(`relay ${testnet.relay.url} (no packet)`);
  });

  it('a packet without _pubky: exit 2, saying so', async () => {
    const keypair = Keypair.random();
    await putToRelay(
      testnet.relay.url,
      SignedPacket.build(keypair, [{ name: '.', ttl: 300, type: 'A', data: '127.0.0.1' }]),
    );
    const result = await resolve(keypair.publicKey.z32, { json: true });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'NO_PUBKY_RECORD' });
  });
});

describe('pubky-backup resolve through the DHT', () => {
  it('--dht-bootstrap with local nodes resolves when the relay is down', async () => {
    const { startLocalDht } = await import('../../src/testnet/dht-nodes.js');
    const { PkarrDht } = await import('../../src/pkdns/index.js');
    const network = await startLocalDht(4);
    const publisher = await PkarrDht.start({ bootstrap: network.bootstrap });
    try {
      const dhtUser = Keypair.random();
      await publisher.put(SignedPacket.build(dhtUser, [pubkyRecord(testnet.homeserver.publicKey)]));
      await publisher.put(testnet.relay.packets.get(testnet.homeserver.publicKey.z32) as SignedPacket);
      const result = await resolve(dhtUser.publicKey.z32, {
        json: true,
        relay: await deadRelayUrl(),
        dhtBootstrap: network.bootstrap,
      });
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toMatchObject({
        source: 'dht',
        homeserver: testnet.homeserver.publicKey.z32,
      });
    } finally {
      await publisher.close();
      await network.close();
    }
  });
});
