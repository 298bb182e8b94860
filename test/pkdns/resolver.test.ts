import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pubky, Keypair as SdkKeypair, PublicKey as SdkPublicKey } from '@synonymdev/pubky';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Keypair, parsePubky } from '../../src/identity/index.js';
import {
  fileResolutionStore,
  type PkarrRecord,
  PkdnsError,
  PkdnsResolver,
  pubkyRecord,
  putToRelay,
  SignedPacket,
} from '../../src/pkdns/index.js';
import { type PkarrRelay, startPkarrRelay } from '../../src/testnet/pkarr-relay.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { deadRelayUrl, startFakeRelay } from '../helpers/fake-relay.js';

let testnet: Testnet;
const closers: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
});
afterAll(() => testnet.close());
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function extraRelay(): Promise<PkarrRelay> {
  const relay = await startPkarrRelay({});
  closers.push(() => relay.close().catch(() => {}));
  // The homeserver's own packet, so users resolved through this relay lead somewhere.
  await putToRelay(relay.url, testnet.relay.packets.get(testnet.homeserver.publicKey.z32) as SignedPacket);
  return relay;
}

/** A user whose `_pubky` record names the testnet homeserver, published on `relays`. */
async function publishedUser(relays: string[], timestampMicros?: bigint, extra: PkarrRecord[] = []) {
  const keypair = Keypair.random();
  const packet = SignedPacket.build(
    keypair,
    [pubkyRecord(testnet.homeserver.publicKey), ...extra],
    timestampMicros,
  );
  for (const relay of relays) await putToRelay(relay, packet);
  return { keypair, key: keypair.publicKey, packet };
}

const homeserverEndpoint = () => `http://localhost:${testnet.homeserver.port}`;

describe('PkdnsResolver', () => {
  it('resolves a user signed up by the official SDK to our homeserver and its endpoint', async () => {
    const pubky = Pubky.withClient(new Client({ pkarr: { relays: [testnet.relay.url] } }));
    const keypair = SdkKeypair.random();
    const user = keypair.publicKey.z32();
    await pubky.signer(keypair).signup(SdkPublicKey.from(testnet.homeserver.publicKey.z32), null);
    const resolver = new PkdnsResolver({ relays: [testnet.relay.url] });
    const resolution = await resolver.resolveHomeserver(parsePubky(user));
    expect(resolution).toMatchObject({
      user,
      homeserver: testnet.homeserver.publicKey.z32,
      endpoints: [{ url: homeserverEndpoint(), priority: 10 }],
      source: 'relay',
      from: testnet.relay.url,
      stale: false,
    });
    // The endpoint really is the homeserver: the SDK's user exists there.
    const session = await fetch(`${resolution.endpoints[0]?.url}/pub/`, { headers: { 'pubky-host': user } });
    expect([200, 404]).toContain(session.status);
  });

  it('races relays: a dead one and a stalled one do not stop the answer; the newest packet wins', async () => {
    const second = await extraRelay();
    const stalled = await startFakeRelay({ stall: true });
    closers.push(() => stalled.close());
    const older = await publishedUser([testnet.relay.url]);
    const newer = SignedPacket.build(older.keypair, [pubkyRecord(Keypair.random().publicKey)]);
    await putToRelay(second.url, newer);
    const resolver = new PkdnsResolver({
      relays: [await deadRelayUrl(), stalled.url, testnet.relay.url, second.url],
      requestTimeoutMs: 500,
    });
    const answer = await resolver.resolvePacket(older.key);
    expect(answer.packet.sameAs(newer)).toBe(true);
    expect(answer.from).toBe(second.url);
    expect(answer.attempts.map((a) => a.outcome)).toEqual(['failed', 'timeout', 'packet', 'packet']);
  });

  it('a lookup where nobody answers ends within the timeout and names every source tried', async () => {
    const stalled = await startFakeRelay({ stall: true });
    closers.push(() => stalled.close());
    const dead = await deadRelayUrl();
    const resolver = new PkdnsResolver({
      relays: [stalled.url, dead],
      timeoutMs: 800,
      requestTimeoutMs: 60_000,
    });
    const error = await resolver.resolvePacket(Keypair.random().publicKey).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PkdnsError);
    expect((error as PkdnsError).code).toBe('NO_PACKET');
    expect((error as PkdnsError).message).toContain(`relay ${stalled.url} (no answer in time)`);
    expect((error as PkdnsError).message).toContain(`relay ${dead} (failed`);
  });

  describe('rejects invalid packets, each with its reason', () => {
    const keypair = Keypair.random();
    const valid = SignedPacket.build(keypair, [pubkyRecord(Keypair.random().publicKey)]);
    const signable = (ts: bigint, dns: Uint8Array) =>
      Buffer.concat([Buffer.from(`3:seqi${ts}e1:v${dns.length}:`), dns]);
    const payload = (ts: bigint, dns: Uint8Array, signature?: Uint8Array) => {
      const timestamp = Buffer.alloc(8);
      timestamp.writeBigUInt64BE(ts);
      return Buffer.concat([signature ?? keypair.sign(signable(ts, dns)), timestamp, dns]);
    };
    const ts = valid.timestampMicros;
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['bad signature', payload(ts, valid.dnsPacket, new Uint8Array(64).fill(1)), /not signed/i],
      ['malformed DNS', payload(ts, Buffer.from('definitely not a dns packet')), /DNS/],
      ['DNS over 1000 bytes', payload(ts, new Uint8Array(1001)), /1000|large|more than/i],
      ['timestamp in the future', payload(ts + 3_600_000_000n, valid.dnsPacket), /future/],
    ];
    it.each(cases)('%s', async (_name, bytes, reason) => {
      const relay = await startFakeRelay({ payload: bytes });
      closers.push(() => relay.close());
      const resolver = new PkdnsResolver({ relays: [relay.url] });
      const error = (await resolver.resolvePacket(keypair.publicKey).catch((e: unknown) => e)) as PkdnsError;
      expect(error).toBeInstanceOf(PkdnsError);
      expect(error.attempts[0]?.outcome).toBe('rejected');
      expect(error.attempts[0]?.detail).toMatch(reason);
    });

    it('never goes back to an older packet than the cached one', async () => {
      const relay = await extraRelay();
      const now = { ms: Date.now() };
      const user = await publishedUser([relay.url]);
      const resolver = new PkdnsResolver({ relays: [relay.url], now: () => now.ms });
      await resolver.resolvePacket(user.key);
      const rollback = await startFakeRelay({
        payload: SignedPacket.build(user.keypair, [], user.packet.timestampMicros - 1n).toRelayPayload(),
      });
      closers.push(() => rollback.close());
      now.ms += 3_600_000;
      const rolledBack = new PkdnsResolver({ relays: [rollback.url], now: () => now.ms });
      (rolledBack as unknown as { cache: unknown }).cache = (resolver as unknown as { cache: unknown }).cache;
      const answer = await rolledBack.resolvePacket(user.key);
      expect(answer.packet.sameAs(user.packet)).toBe(true);
      expect(answer).toMatchObject({ source: 'cache', stale: true });
      expect(answer.attempts[0]).toMatchObject({
        outcome: 'rejected',
        detail: 'older than the packet already known',
      });
    });
  });

  it('says exactly what is missing: no packet, no _pubky record', async () => {
    const resolver = new PkdnsResolver({ relays: [testnet.relay.url] });
    const nobody = await resolver.resolveHomeserver(Keypair.random().publicKey).catch((e: unknown) => e);
    expect(nobody).toMatchObject({ code: 'NO_PACKET' });
    expect((nobody as Error).message).toContain(`relay ${testnet.relay.url} (no packet)`);
    const keypair = Keypair.random();
    await putToRelay(
      testnet.relay.url,
      SignedPacket.build(keypair, [{ name: '.', ttl: 300, type: 'TXT', data: ['hi'] }]),
    );
    const noRecord = await resolver.resolveHomeserver(keypair.publicKey).catch((e: unknown) => e);
    expect(noRecord).toMatchObject({ code: 'NO_PUBKY_RECORD' });
    expect((noRecord as Error).message).toContain('has no _pubky record');
  });

  it('a cached key resolves without any network call; a stale cache is refreshed', async () => {
    const relay = await extraRelay();
    const user = await publishedUser([relay.url]);
    const now = { ms: Date.now() };
    const resolver = new PkdnsResolver({ relays: [relay.url], now: () => now.ms });
    expect((await resolver.resolveHomeserver(user.key)).source).toBe('relay');
    await relay.close();
    const cached = await resolver.resolveHomeserver(user.key);
    expect(cached).toMatchObject({ source: 'cache', stale: false, attempts: [] });

    const revived = await startPkarrRelay({ port: relay.port });
    closers.push(() => revived.close());
    const movedTo = Keypair.random().publicKey;
    await putToRelay(revived.url, SignedPacket.build(user.keypair, [pubkyRecord(movedTo)]));
    await putToRelay(
      revived.url,
      testnet.relay.packets.get(testnet.homeserver.publicKey.z32) as SignedPacket,
    );
    now.ms += 3_600_000 + 1; // past the 3600 s TTL of the _pubky record
    const refreshed = await resolver.resolvePacket(user.key);
    expect(refreshed.source).toBe('relay');
    expect(refreshed.packet.recordsNamed('_pubky')[0]).toMatchObject({ data: { target: movedTo.z32 } });
  });

  it('persists the resolution so a restart works offline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-pkdns-'));
    const store = fileResolutionStore((user) => join(dir, user, 'homeserver.json'));
    const relay = await extraRelay();
    const user = await publishedUser([relay.url]);
    await new PkdnsResolver({ relays: [relay.url], store }).resolveHomeserver(user.key);
    const saved = JSON.parse(await readFile(join(dir, user.key.z32, 'homeserver.json'), 'utf8'));
    expect(saved).toMatchObject({ user: user.key.z32, homeserver: testnet.homeserver.publicKey.z32 });
    await relay.close();

    const afterRestart = new PkdnsResolver({
      relays: [relay.url],
      store,
      now: () => Date.now() + 2 * 86_400_000,
    });
    const offline = await afterRestart.resolveHomeserver(user.key);
    expect(offline).toMatchObject({
      homeserver: testnet.homeserver.publicKey.z32,
      endpoints: [{ url: homeserverEndpoint() }],
      source: 'cache',
      stale: true,
    });
  });
});

describe('PkdnsResolver with the Mainline DHT (local nodes only)', () => {
  it('resolves through the DHT when every relay is down, and through relays when the DHT has nothing', async () => {
    const { startLocalDht } = await import('../../src/testnet/dht-nodes.js');
    const { PkarrDht } = await import('../../src/pkdns/index.js');
    const network = await startLocalDht(4);
    const publisher = await PkarrDht.start({ bootstrap: network.bootstrap });
    const reader = await PkarrDht.start({ bootstrap: network.bootstrap });
    closers.push(async () => {
      await reader.close();
      await publisher.close();
      await network.close();
    });
    const user = Keypair.random();
    await publisher.put(SignedPacket.build(user, [pubkyRecord(testnet.homeserver.publicKey)]));
    await publisher.put(testnet.relay.packets.get(testnet.homeserver.publicKey.z32) as SignedPacket);

    const dhtOnly = new PkdnsResolver({ relays: [await deadRelayUrl(), await deadRelayUrl()], dht: reader });
    const viaDht = await dhtOnly.resolveHomeserver(user.publicKey);
    expect(viaDht).toMatchObject({
      source: 'dht',
      from: 'DHT',
      homeserver: testnet.homeserver.publicKey.z32,
    });
    expect(viaDht.endpoints[0]?.url).toBe(homeserverEndpoint());

    // A user only on the relay: the DHT answers "nothing", the relay answers.
    const relayUser = await publishedUser([testnet.relay.url]);
    const both = new PkdnsResolver({ relays: [testnet.relay.url], dht: reader });
    expect(await both.resolveHomeserver(relayUser.key)).toMatchObject({ source: 'relay' });
  });
});
