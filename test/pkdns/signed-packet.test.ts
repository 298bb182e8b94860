import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keypair, PublicKey } from '../../src/identity/index.js';
import {
  encodeDnsPacket,
  homeserverHttpsRecord,
  homeserverOf,
  MAX_DNS_PACKET_BYTES,
  PkarrPacketError,
  type PkarrPacketErrorCode,
  type PkarrRecord,
  pubkyRecord,
  SignedPacket,
} from '../../src/pkdns/index.js';
import { thrown } from '../helpers/errors.js';

const USER = Keypair.fromSecret(new Uint8Array(32).fill(1));
const HOMESERVER = Keypair.fromSecret(new Uint8Array(32).fill(2));

/**
 * A relay payload captured from @synonymdev/pubky 0.6.0: `signer(USER).pkdns.publishHomeserverForce(HOMESERVER)`
 * PUT it to a relay. Signature, timestamp and DNS bytes are exactly what the SDK sent.
 */
const SDK_PAYLOAD = Buffer.from(
  '9c402dc0b054ff3b1edd1016dd42ff8d77d26fb9396683e65e319d4e0629d078d8ed86b81701d9cb11a20c066ac9e56e' +
    '1e3a3dc4a165614c46190843687692000006614a56e5baf8000080000000000100000000065f7075626b7934746b7271' +
    '387a6d77623861336d396b313563737533713137716d6667716e703964736b6272673975713172796470797870377179' +
    '000041000100000e1000380000346f72687a7164696578776d69366969646b7475636775643633756661356e77747375' +
    '7a6478653137366138697a64366a73716b7900',
  'hex',
);

function rejection(run: () => unknown): PkarrPacketErrorCode {
  const error = thrown(run, PkarrPacketError);
  expect(error.message).not.toBe('');
  return error.code;
}

function flipBit(bytes: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[at] = (copy[at] ?? 0) ^ 1;
  return copy;
}

describe('SignedPacket reads what the official SDK publishes', () => {
  it('verifies the captured payload and finds the homeserver', () => {
    const packet = SignedPacket.fromRelayPayload(USER.publicKey, SDK_PAYLOAD);
    expect(packet.timestampMicros).toBe(0x0006614a56e5baf8n);
    expect(packet.records).toEqual([pubkyRecord(HOMESERVER.publicKey)]);
    expect(homeserverOf(packet)?.z32).toBe(HOMESERVER.publicKey.z32);
    expect(Buffer.from(packet.toRelayPayload())).toEqual(SDK_PAYLOAD);
  });

  it('builds the same DNS bytes and signature the SDK did, given the same timestamp', () => {
    const ours = SignedPacket.build(USER, [pubkyRecord(HOMESERVER.publicKey)], 0x0006614a56e5baf8n);
    // ed25519 signatures are deterministic, so equal bytes prove the signable is the same.
    expect(Buffer.from(ours.toRelayPayload())).toEqual(SDK_PAYLOAD);
  });
});

describe('SignedPacket.build', () => {
  it('round-trips through relay payload and canonical bytes', () => {
    const records: PkarrRecord[] = [
      pubkyRecord(HOMESERVER.publicKey),
      { name: 'x', ttl: 60, type: 'TXT', data: ['y'] },
    ];
    const packet = SignedPacket.build(USER, records, 42n);
    const viaPayload = SignedPacket.fromRelayPayload(USER.publicKey, packet.toRelayPayload());
    const viaBytes = SignedPacket.fromBytes(packet.toBytes());
    for (const copy of [viaPayload, viaBytes]) {
      expect(copy.publicKey.z32).toBe(USER.publicKey.z32);
      expect(copy.timestampMicros).toBe(42n);
      expect(copy.records).toEqual(records);
      expect(copy.sameAs(packet)).toBe(true);
    }
    expect(packet.toBytes().length).toBe(32 + 64 + 8 + packet.dnsPacket.length);
    expect(Buffer.from(packet.toBytes().subarray(0, 32))).toEqual(Buffer.from(USER.publicKey.bytes));
  });

  it('signs the BEP44 signable `3:seqi<ts>e1:v<len>:<dns>`', () => {
    const packet = SignedPacket.build(USER, [pubkyRecord(HOMESERVER.publicKey)], 1_700_000_000_000_000n);
    const signable = Buffer.concat([
      Buffer.from(`3:seqi1700000000000000e1:v${packet.dnsPacket.length}:`),
      packet.dnsPacket,
    ]);
    expect(ed25519.verify(packet.signature, signable, USER.publicKey.bytes)).toBe(true);
    const payload = packet.toRelayPayload();
    expect(new DataView(payload.buffer).getBigUint64(64)).toBe(1_700_000_000_000_000n);
  });

  it('defaults to now, in microseconds, strictly increasing', () => {
    const before = BigInt(Date.now()) * 1000n;
    const first = SignedPacket.build(USER, []);
    const second = SignedPacket.build(USER, []);
    expect(first.timestampMicros).toBeGreaterThanOrEqual(before);
    expect(first.timestampMicros).toBeLessThan(before + 5_000_000n);
    expect(second.moreRecentThan(first)).toBe(true);
  });

  it('refuses more than 1000 bytes of DNS (TOO_LARGE), accepts exactly 1000', () => {
    // A TXT record of four strings; the last one's length tunes the packet size byte by byte.
    const sized = (tail: number): PkarrRecord[] => [
      { name: '.', ttl: 1, type: 'TXT', data: [...Array(3).fill('x'.repeat(255)), 'x'.repeat(tail)] },
    ];
    const tail = MAX_DNS_PACKET_BYTES - encodeDnsPacket(USER.publicKey, sized(0)).length;
    expect(SignedPacket.build(USER, sized(tail)).dnsPacket.length).toBe(1000);
    expect(rejection(() => SignedPacket.build(USER, sized(tail + 1)))).toBe('TOO_LARGE');
  });

  it('refuses a timestamp outside u64', () => {
    expect(rejection(() => SignedPacket.build(USER, [], -1n))).toBe('INVALID_RECORD');
    expect(rejection(() => SignedPacket.build(USER, [], 1n << 64n))).toBe('INVALID_RECORD');
  });
});

describe('SignedPacket verification', () => {
  const packet = SignedPacket.build(USER, [pubkyRecord(HOMESERVER.publicKey)], 1_000_000n);
  const payload = packet.toRelayPayload();

  it('rejects any changed bit: signature, timestamp or DNS (BAD_SIGNATURE)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: payload.length - 1 }), (at) => {
        expect(rejection(() => SignedPacket.fromRelayPayload(USER.publicKey, flipBit(payload, at)))).toBe(
          'BAD_SIGNATURE',
        );
      }),
    );
  });

  it('rejects a packet presented for another key (BAD_SIGNATURE)', () => {
    expect(rejection(() => SignedPacket.fromRelayPayload(HOMESERVER.publicKey, payload))).toBe(
      'BAD_SIGNATURE',
    );
  });

  it('rejects short input (TOO_SHORT)', () => {
    expect(rejection(() => SignedPacket.fromRelayPayload(USER.publicKey, payload.subarray(0, 71)))).toBe(
      'TOO_SHORT',
    );
    expect(rejection(() => SignedPacket.fromBytes(packet.toBytes().subarray(0, 103)))).toBe('TOO_SHORT');
    expect(rejection(() => SignedPacket.fromBytes(new Uint8Array()))).toBe('TOO_SHORT');
  });

  it('rejects payloads over 1072 bytes and packets over 1104 (TOO_LARGE)', () => {
    expect(rejection(() => SignedPacket.fromRelayPayload(USER.publicKey, new Uint8Array(1073)))).toBe(
      'TOO_LARGE',
    );
    expect(rejection(() => SignedPacket.fromBytes(new Uint8Array(1105)))).toBe('TOO_LARGE');
  });

  it('rejects validly signed bytes that are not DNS (MALFORMED_DNS)', () => {
    const garbage = new Uint8Array([1, 2, 3]);
    const signable = Buffer.concat([Buffer.from('3:seqi5e1:v3:'), garbage]);
    const forged = Buffer.concat([USER.sign(signable), Buffer.from([0, 0, 0, 0, 0, 0, 0, 5]), garbage]);
    expect(rejection(() => SignedPacket.fromRelayPayload(USER.publicKey, forged))).toBe('MALFORMED_DNS');
  });

  it('rejects a public key that is not a curve point (BAD_PUBLIC_KEY)', () => {
    const bytes = packet.toBytes();
    // y = 2 is not the y-coordinate of any ed25519 point.
    bytes.set([2, ...new Uint8Array(31)], 0);
    expect(rejection(() => SignedPacket.fromBytes(bytes))).toBe('BAD_PUBLIC_KEY');
  });

  it('never throws anything but PkarrPacketError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), (bytes) => {
        expect(() => SignedPacket.fromBytes(bytes)).toThrow(PkarrPacketError);
        expect(() => SignedPacket.fromRelayPayload(USER.publicKey, bytes)).toThrow(PkarrPacketError);
      }),
    );
  });
});

describe('SignedPacket ordering and lookups', () => {
  it('a later timestamp is more recent; on a tie the larger DNS packet wins (pkarr)', () => {
    const older = SignedPacket.build(USER, [pubkyRecord(HOMESERVER.publicKey)], 10n);
    const newer = SignedPacket.build(USER, [], 11n);
    expect(newer.moreRecentThan(older)).toBe(true);
    expect(older.moreRecentThan(newer)).toBe(false);

    const small = SignedPacket.build(USER, [{ name: '.', ttl: 1, type: 'A', data: '1.1.1.1' }], 10n);
    const large = SignedPacket.build(USER, [{ name: '.', ttl: 1, type: 'A', data: '1.1.1.2' }], 10n);
    expect(large.moreRecentThan(small)).toBe(true);
    expect(small.moreRecentThan(large)).toBe(false);
    expect(small.moreRecentThan(small)).toBe(false);
  });

  it('recordsNamed normalises names like pkarr', () => {
    const packet = SignedPacket.build(USER, [
      pubkyRecord(HOMESERVER.publicKey),
      homeserverHttpsRecord(6286),
      { name: '.', ttl: 60, type: 'A', data: '127.0.0.1' },
    ]);
    expect(packet.recordsNamed('.').map((r) => r.type)).toEqual(['HTTPS', 'A']);
    expect(packet.recordsNamed('@')).toHaveLength(2);
    expect(packet.recordsNamed(USER.publicKey.z32)).toHaveLength(2);
    expect(packet.recordsNamed('_pubky')).toHaveLength(1);
    expect(packet.recordsNamed(`_pubky.${USER.publicKey.z32}`)).toHaveLength(1);
    expect(packet.recordsNamed('_PUBKY')).toHaveLength(1);
    expect(packet.recordsNamed('nothing')).toEqual([]);
  });

  it('ttl is the smallest record TTL, clamped', () => {
    const records: PkarrRecord[] = [
      { name: '.', ttl: 7200, type: 'A', data: '1.1.1.1' },
      { name: 'x', ttl: 600, type: 'A', data: '1.1.1.1' },
    ];
    expect(SignedPacket.build(USER, records).ttl(300, 86400)).toBe(600);
    expect(SignedPacket.build(USER, records).ttl(900, 86400)).toBe(900);
    expect(SignedPacket.build(USER, records).ttl(10, 100)).toBe(100);
    expect(SignedPacket.build(USER, []).ttl(300, 86400)).toBe(300);
  });

  it('Last-Modified is the timestamp as an HTTP date (whole seconds)', () => {
    const packet = SignedPacket.build(USER, [], 1_700_000_000_999_999n);
    expect(packet.lastModifiedHttpDate()).toBe('Tue, 14 Nov 2023 22:13:20 GMT');
    expect(packet.timestampSeconds()).toBe(1_700_000_000);
    // Timestamps past what a Date can hold still give a date, not "Invalid Date".
    expect(SignedPacket.build(USER, [], (1n << 64n) - 1n).lastModifiedHttpDate()).toMatch(/GMT$/);
  });
});

describe('homeserverOf', () => {
  it('is the target of the first SVCB/HTTPS record named _pubky', () => {
    const svcb: PkarrRecord = {
      name: '_pubky',
      ttl: 60,
      type: 'SVCB',
      data: { priority: 0, target: HOMESERVER.publicKey.z32, params: new Map() },
    };
    const packet = SignedPacket.build(USER, [{ name: '_pubky', ttl: 60, type: 'TXT', data: ['x'] }, svcb]);
    expect(homeserverOf(packet)?.z32).toBe(HOMESERVER.publicKey.z32);
  });

  it('is undefined without a _pubky record, or when its target is not a key', () => {
    expect(homeserverOf(SignedPacket.build(USER, [homeserverHttpsRecord(1)]))).toBeUndefined();
    const notAKey: PkarrRecord = {
      name: '_pubky',
      ttl: 60,
      type: 'HTTPS',
      data: { priority: 0, target: 'example.com', params: new Map() },
    };
    expect(
      homeserverOf(SignedPacket.build(USER, [notAKey, pubkyRecord(HOMESERVER.publicKey)])),
    ).toBeUndefined();
  });

  it('returns a PublicKey', () => {
    expect(homeserverOf(SignedPacket.build(USER, [pubkyRecord(HOMESERVER.publicKey)]))).toBeInstanceOf(
      PublicKey,
    );
  });
});
