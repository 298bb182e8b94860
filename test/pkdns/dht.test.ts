import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import DHT, { type GetResponse, type MutablePutOptions } from 'bittorrent-dht';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import { PkarrDht, PkarrDhtError, verifyMutableItem } from '../../src/pkdns/dht.js';
import { type PkarrRecord, pubkyRecord, SignedPacket } from '../../src/pkdns/index.js';
import { type LocalDht, startLocalDht } from '../../src/testnet/dht-nodes.js';
import { caught } from '../helpers/errors.js';

const HOMESERVER = Keypair.random().publicKey;
const RECORDS: PkarrRecord[] = [
  pubkyRecord(HOMESERVER),
  { name: '.', ttl: 300, type: 'A', data: '127.0.0.1' },
  { name: 'app', ttl: 60, type: 'TXT', data: ['hello', 'dht'] },
];

function nowMicros(): bigint {
  return BigInt(Date.now()) * 1000n;
}

/** A plain bittorrent-dht node that stores and returns anything: a liar inside the network. */
async function startGullibleNode(bootstrap: string[]): Promise<DHT> {
  const dht = new DHT({ bootstrap, verify: () => true });
  await new Promise<void>((resolve) => dht.listen(0, '127.0.0.1', resolve));
  if (!dht.ready) await once(dht, 'ready');
  return dht;
}

function rawPut(dht: DHT, item: MutablePutOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    dht.put(item, (error, _target, stored) => (error ? reject(error) : resolve(stored)));
  });
}

function rawGet(dht: DHT, target: Buffer): Promise<GetResponse | null> {
  return new Promise((resolve, reject) => {
    dht.get(target, { cache: false, verify: () => true }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

function destroy(dht: DHT): Promise<void> {
  return new Promise((resolve) => dht.destroy(resolve));
}

describe('PkarrDht on a local network', () => {
  let network: LocalDht;
  let writer: PkarrDht;
  let reader: PkarrDht;

  beforeAll(async () => {
    network = await startLocalDht(4);
    writer = await PkarrDht.start({ bootstrap: network.bootstrap });
    reader = await PkarrDht.start({ bootstrap: network.bootstrap });
  });
  afterAll(async () => {
    await Promise.all([writer?.close(), reader?.close()]);
    await network?.close();
  });

  it('binds to 127.0.0.1', () => {
    expect(writer.address()).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const node of network.bootstrap) expect(node).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('reads back the exact bytes another node put', async () => {
    const user = Keypair.random();
    const packet = SignedPacket.build(user, RECORDS);
    expect(await writer.put(packet)).toBeGreaterThan(0);
    const read = await reader.get(user.publicKey, { timeoutMs: 10_000 });
    expect(read).toBeDefined();
    expect(Buffer.from(read?.toBytes() ?? [])).toEqual(Buffer.from(packet.toBytes()));
    expect(read?.timestampMicros).toBe(packet.timestampMicros);
  });

  it('replaces an older packet with a newer one, and refuses going back', async () => {
    const user = Keypair.random();
    const t = nowMicros();
    const older = SignedPacket.build(user, RECORDS, t);
    const newer = SignedPacket.build(user, [pubkyRecord(Keypair.random().publicKey)], t + 1n);
    await writer.put(older);
    expect((await reader.get(user.publicKey))?.sameAs(older)).toBe(true);

    await writer.put(newer, { cas: older.timestampMicros });
    expect((await reader.get(user.publicKey))?.sameAs(newer)).toBe(true);

    expect((await caught(writer.put(older), PkarrDhtError)).code).toBe('NOT_MOST_RECENT');
    const newest = SignedPacket.build(user, RECORDS, t + 2n);
    expect((await caught(writer.put(newest, { cas: older.timestampMicros }), PkarrDhtError)).code).toBe(
      'CAS_MISMATCH',
    );
    expect((await reader.get(user.publicKey))?.sameAs(newer)).toBe(true);
  });

  it('resolves undefined for a key nobody published', async () => {
    const started = Date.now();
    expect(await reader.get(Keypair.random().publicKey, { timeoutMs: 10_000 })).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses packets bittorrent-dht cannot carry', async () => {
    const user = Keypair.random();
    // A TXT record whose last string's length tunes the DNS packet to exactly 1000 bytes.
    const sized = (tail: number): PkarrRecord[] => [
      { name: '.', ttl: 1, type: 'TXT', data: [...Array(3).fill('x'.repeat(255)), 'x'.repeat(tail)] },
    ];
    const tail = 1000 - SignedPacket.build(user, sized(0)).dnsPacket.length;
    const full = SignedPacket.build(user, sized(tail));
    expect(full.dnsPacket.length).toBe(1000);
    expect((await caught(writer.put(full), PkarrDhtError)).code).toBe('UNSUPPORTED_PACKET');
    const farFuture = SignedPacket.build(user, RECORDS, 1n << 60n);
    expect((await caught(writer.put(farFuture), PkarrDhtError)).code).toBe('UNSUPPORTED_PACKET');
  });
});

describe('PkarrDht among lying nodes', () => {
  let network: LocalDht;
  let reader: PkarrDht;
  let liar: DHT;
  let attacker: DHT;

  // The liars live as long as the network: dead nodes in routing tables would slow every lookup.
  beforeAll(async () => {
    network = await startLocalDht(4);
    reader = await PkarrDht.start({ bootstrap: network.bootstrap });
    liar = await startGullibleNode(network.bootstrap);
    attacker = await startGullibleNode(network.bootstrap);
  });
  afterAll(async () => {
    await Promise.all([reader?.close(), liar && destroy(liar), attacker && destroy(attacker)]);
    await network?.close();
  });

  it('never returns a forged item, even when a node serves one with a higher seq', async () => {
    const user = Keypair.random();
    const honest = SignedPacket.build(user, RECORDS);
    await reader.put(honest);
    const tampered = Buffer.from(honest.dnsPacket);
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 1;
    // Honest nodes drop the bad signature without answering (k-rpc times out); only the liar keeps it.
    const stored = await rawPut(attacker, {
      k: Buffer.from(user.publicKey.bytes),
      v: tampered,
      seq: Number(honest.timestampMicros) + 1_000_000,
      sign: () => Buffer.from(honest.signature),
    });
    expect(stored).toBe(1);
    const served = await rawGet(attacker, createHash('sha1').update(user.publicKey.bytes).digest());
    expect(served?.v.equals(tampered)).toBe(true);

    expect((await reader.get(user.publicKey))?.sameAs(honest)).toBe(true);
  });

  it('ignores a correctly signed item that is not a DNS packet', async () => {
    const user = Keypair.random();
    const stored = await rawPut(attacker, {
      k: Buffer.from(user.publicKey.bytes),
      v: Buffer.from('not a dns packet'),
      seq: Number(nowMicros()),
      sign: (message) => Buffer.from(user.sign(message)),
    });
    expect(stored).toBeGreaterThan(1);
    expect(await reader.get(user.publicKey)).toBeUndefined();
  });
});

describe('PkarrDht timeouts and closing', () => {
  it('resolves undefined by the timeout when no node answers', async () => {
    // A UDP socket that never replies stands for an unreachable bootstrap node.
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const node = await PkarrDht.start({ bootstrap: [`127.0.0.1:${silent.address().port}`] });
    try {
      const started = Date.now();
      expect(await node.get(Keypair.random().publicKey, { timeoutMs: 200 })).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(1_900);

      const controller = new AbortController();
      const aborted = node.get(Keypair.random().publicKey, { signal: controller.signal });
      controller.abort(new Error('stop'));
      await expect(aborted).rejects.toThrow('stop');

      const pending = node.get(Keypair.random().publicKey, { timeoutMs: 60_000 });
      await node.close();
      expect(await pending).toBeUndefined();
      expect((await caught(node.get(Keypair.random().publicKey), PkarrDhtError)).code).toBe('CLOSED');
    } finally {
      await node.close();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('rejects bootstrap addresses that are not host:port', async () => {
    await expect(PkarrDht.start({ bootstrap: ['127.0.0.1'] })).rejects.toThrow(RangeError);
    await expect(PkarrDht.start({ bootstrap: ['[::1]:6881'] })).rejects.toThrow(RangeError);
  });
});

describe('verifyMutableItem', () => {
  const user = Keypair.random();
  const packet = SignedPacket.build(user, RECORDS, 1_700_000_000_000_000n);
  const signable = Buffer.concat([
    Buffer.from(`3:seqi${packet.timestampMicros}e1:v${packet.dnsPacket.length}:`),
    packet.dnsPacket,
  ]);

  it("accepts the packet's own BEP44 signable and signature", () => {
    expect(verifyMutableItem(packet.signature, signable, user.publicKey.bytes)).toBe(true);
  });

  it('rejects altered bytes, another key, and malformed input', () => {
    const altered = Buffer.from(signable);
    altered[altered.length - 1] = (altered.at(-1) ?? 0) ^ 1;
    expect(verifyMutableItem(packet.signature, altered, user.publicKey.bytes)).toBe(false);
    expect(verifyMutableItem(packet.signature, signable, Keypair.random().publicKey.bytes)).toBe(false);
    expect(verifyMutableItem(packet.signature.subarray(0, 63), signable, user.publicKey.bytes)).toBe(false);
    expect(verifyMutableItem(packet.signature, signable, new Uint8Array(31))).toBe(false);
    expect(verifyMutableItem(new Uint8Array(64), signable, user.publicKey.bytes)).toBe(false);
  });
});

describe('cleanup', () => {
  it('leaves no UDP socket open', async () => {
    // A closed dgram handle is released on the loop turn after its 'close' event: poll briefly.
    await vi.waitFor(
      () => expect(process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWrap')).toEqual([]),
      {
        timeout: 2_000,
      },
    );
  });
});
