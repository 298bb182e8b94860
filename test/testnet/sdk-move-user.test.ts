import { Client, Pubky, Keypair as SdkKeypair, PublicKey as SdkPublicKey } from '@synonymdev/pubky';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePubky } from '../../src/identity/index.js';
import { getFromRelay, homeserverOf } from '../../src/pkdns/index.js';
import { startTestnet, type Testnet, testnetHomeserverKeypair } from '../../src/testnet/testnet.js';
import { adminFetch } from '../helpers/admin.js';

// Two homeservers on one testnet: a user moves from the first to the second with the official
// SDK, then the first goes away (stopped through its admin server) and comes back intact.
let testnet: Testnet;
let pubky: Pubky;
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0, homeservers: 2 });
  pubky = Pubky.withClient(new Client({ pkarr: { relays: [testnet.relay.url] } }));
});
afterAll(() => testnet.close());

const sdkKey = (index: number) => SdkPublicKey.from(testnet.homeservers[index]?.publicKey.z32 as string);

describe('several homeservers', () => {
  it('have distinct deterministic keys, ports and data, each with its own admin server', async () => {
    const [first, second] = testnet.homeservers;
    expect(first?.publicKey.z32).toBe('8pinxxgqs41n4aididenw5apqp1urfmzdztr8jt4abrkdn435ewo');
    expect(second?.publicKey.z32).toBe(testnetHomeserverKeypair(1).publicKey.z32);
    expect(second?.publicKey.z32).not.toBe(first?.publicKey.z32);
    expect(second?.port).not.toBe(first?.port);
    for (const [i, admin] of testnet.admins.entries()) {
      const info = (await (await adminFetch(admin, '/info')).json()) as { public_key: string };
      expect(info.public_key).toBe(testnet.homeservers[i]?.publicKey.z32);
    }
    // Each homeserver announced itself on the shared relay.
    for (const homeserver of testnet.homeservers) {
      expect(await getFromRelay(testnet.relay.url, homeserver.publicKey)).toBeDefined();
    }
  });

  it('a user moves from the first to the second; then the first is stopped and started again', async () => {
    const keypair = SdkKeypair.random();
    const user = keypair.publicKey.z32();
    const signer = pubky.signer(keypair);
    const old = await signer.signup(sdkKey(0), null);
    await old.storage.putText('/pub/move.test/note.txt', 'kept across the move');
    const address = `pubky${user}/pub/move.test/note.txt` as const;
    expect((await pubky.getHomeserverOf(keypair.publicKey))?.z32()).toBe(sdkKey(0).z32());

    // Move: take the data, sign up on the second homeserver (republishes _pubky), put it there.
    const saved = await old.storage.getText('/pub/move.test/note.txt');
    const moved = await signer.signup(sdkKey(1), null);
    expect((await pubky.getHomeserverOf(keypair.publicKey))?.z32()).toBe(sdkKey(1).z32());
    const packet = await getFromRelay(testnet.relay.url, parsePubky(user));
    expect(packet && homeserverOf(packet)?.z32).toBe(sdkKey(1).z32());
    await moved.storage.putText('/pub/move.test/note.txt', saved);
    expect(testnet.homeservers[1]?.state.filesOf(user).get('/pub/move.test/note.txt')?.size).toBe(20);

    // The old homeserver goes away: readers follow _pubky to the new one and do not notice.
    const [firstAdmin] = testnet.admins;
    if (!firstAdmin) throw new Error('no admin server');
    expect((await adminFetch(firstAdmin, '/testnet/stop', { method: 'POST' })).status).toBe(200);
    await expect(fetch(`${testnet.homeservers[0]?.url}/`)).rejects.toThrow();
    expect(await pubky.publicStorage.getText(address)).toBe('kept across the move');

    // It comes back on the same port with the user's old copy intact.
    expect((await adminFetch(firstAdmin, '/testnet/start', { method: 'POST' })).status).toBe(200);
    const direct = await fetch(`${testnet.homeservers[0]?.url}/pub/move.test/note.txt`, {
      headers: { 'pubky-host': user },
    });
    expect(await direct.text()).toBe('kept across the move');
  });
});
