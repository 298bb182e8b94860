import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import {
  getFromRelay,
  homeserverOf,
  PkdnsError,
  PkdnsResolver,
  pubkyRecord,
  publishHomeserver,
  putToRelay,
  SignedPacket,
} from '../../src/pkdns/index.js';
import { type PkarrRelay, startPkarrRelay } from '../../src/testnet/pkarr-relay.js';
import { deadRelayUrl } from '../helpers/fake-relay.js';

let relays: PkarrRelay[];
beforeEach(async () => {
  relays = [await startPkarrRelay({}), await startPkarrRelay({})];
});
afterEach(async () => {
  for (const relay of relays) await relay.close();
});

describe('publishHomeserver (migrate)', () => {
  it('points _pubky at the new homeserver, keeps the other records, with CAS on the old timestamp', async () => {
    const user = Keypair.random();
    const oldHomeserver = Keypair.random().publicKey;
    const newHomeserver = Keypair.random().publicKey;
    const old = SignedPacket.build(user, [
      pubkyRecord(oldHomeserver),
      { name: '.', ttl: 300, type: 'TXT', data: ['keep me'] },
      { name: '_pubky.extra', ttl: 300, type: 'TXT', data: ['a _pubky sub-record is replaced too'] },
    ]);
    for (const relay of relays) await putToRelay(relay.url, old);

    const outcome = await publishHomeserver(user, newHomeserver, { relays: relays.map((r) => r.url) });
    expect(outcome.previous?.sameAs(old)).toBe(true);
    expect(outcome.packet.timestampMicros).toBeGreaterThan(old.timestampMicros);
    expect(outcome.results.every((r) => r.ok)).toBe(true);
    for (const relay of relays) {
      const stored = (await getFromRelay(relay.url, user.publicKey)) as SignedPacket;
      expect(homeserverOf(stored)?.z32).toBe(newHomeserver.z32);
      expect(stored.recordsNamed('.')).toEqual([{ name: '.', ttl: 300, type: 'TXT', data: ['keep me'] }]);
      expect(stored.recordsNamed('_pubky.extra')).toEqual([]);
    }
    const resolver = new PkdnsResolver({ relays: [relays[0]?.url as string] });
    expect(homeserverOf((await resolver.resolvePacket(user.publicKey)).packet)?.z32).toBe(newHomeserver.z32);
  });

  it('works for a key with no packet yet, and succeeds when a majority of relays accept', async () => {
    const user = Keypair.random();
    const target = Keypair.random().publicKey;
    const urls = [...relays.map((r) => r.url), await deadRelayUrl()];
    const outcome = await publishHomeserver(user, target, { relays: urls, timeoutMs: 2000 });
    expect(outcome.previous).toBeUndefined();
    expect(outcome.results.map((r) => r.ok)).toEqual([true, true, false]);
  });

  it('fails with the reasons when most relays refuse', async () => {
    const user = Keypair.random();
    const urls = [relays[0]?.url as string, await deadRelayUrl(), await deadRelayUrl()];
    const error = await publishHomeserver(user, Keypair.random().publicKey, {
      relays: urls,
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PkdnsError);
    expect(error).toMatchObject({ code: 'PUBLISH_FAILED' });
    expect((error as Error).message).toContain('unreachable');
  });
});
