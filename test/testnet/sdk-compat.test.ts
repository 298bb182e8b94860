import {
  Client,
  Pubky,
  Keypair as SdkKeypair,
  PublicKey as SdkPublicKey,
  type Session as SdkSession,
} from '@synonymdev/pubky';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePubky } from '../../src/identity/index.js';
import { getFromRelay, homeserverOf } from '../../src/pkdns/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { blake3Base64, readSse } from '../helpers/homeserver.js';

// The proof of faithfulness: the official SDK, a client nobody here wrote, against our testnet.
let testnet: Testnet;
let pubky: Pubky;
let keypair: SdkKeypair;
let user: string;
let session: SdkSession;

beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
  pubky = Pubky.withClient(new Client({ pkarr: { relays: [testnet.relay.url] } }));
  keypair = SdkKeypair.random();
  user = keypair.publicKey.z32();
  session = await pubky.signer(keypair).signup(SdkPublicKey.from(testnet.homeserver.publicKey.z32), null);
});
afterAll(() => testnet.close());

describe('official @synonymdev/pubky SDK against the testnet', () => {
  it('signs up: the session is the user’s, and the published _pubky record names our homeserver', async () => {
    expect(session.info.publicKey.z32()).toBe(user);
    expect(testnet.homeserver.state.users.has(user)).toBe(true);
    const packet = await getFromRelay(testnet.relay.url, parsePubky(user));
    expect(packet && homeserverOf(packet)?.z32).toBe(testnet.homeserver.publicKey.z32);
    const resolved = await pubky.getHomeserverOf(SdkPublicKey.from(user));
    expect(resolved?.z32()).toBe(testnet.homeserver.publicKey.z32);
  });

  it('writes, reads, lists and deletes files, and reads them publicly', async () => {
    const storage = session.storage;
    await storage.putText('/pub/sdk.test/hello.txt', 'hello from the SDK');
    await storage.putJson('/pub/sdk.test/data.json', { a: 1 });
    await storage.putBytes('/pub/sdk.test/blob.bin', new Uint8Array([1, 2, 3, 255]));
    expect(await storage.getText('/pub/sdk.test/hello.txt')).toBe('hello from the SDK');
    expect(await storage.getJson('/pub/sdk.test/data.json')).toEqual({ a: 1 });
    expect([...(await storage.getBytes('/pub/sdk.test/blob.bin'))]).toEqual([1, 2, 3, 255]);
    expect(await storage.exists('/pub/sdk.test/hello.txt')).toBe(true);
    const listing = await storage.list('/pub/sdk.test/');
    expect(listing).toEqual(
      ['blob.bin', 'data.json', 'hello.txt'].map((name) => `pubky://${user}/pub/sdk.test/${name}`),
    );
    expect(await storage.list('/pub/sdk.test/', null, true, 1)).toEqual([
      `pubky://${user}/pub/sdk.test/hello.txt`,
    ]);
    const publicText = await pubky.publicStorage.getText(`pubky${user}/pub/sdk.test/hello.txt`);
    expect(publicText).toBe('hello from the SDK');
    const stats = await pubky.publicStorage.stats(`pubky${user}/pub/sdk.test/hello.txt`);
    expect(stats?.contentLength).toBe(18);

    await storage.delete('/pub/sdk.test/blob.bin');
    expect(await storage.exists('/pub/sdk.test/blob.bin')).toBe(false);
  });

  it('the events feed and the SSE stream show exactly those writes', async () => {
    const ours = (await (await fetch(`${testnet.homeserver.url}/events/`)).text())
      .split('\n')
      .filter((line) => line.includes(user));
    expect(ours).toEqual([
      `PUT pubky://${user}/pub/sdk.test/hello.txt`,
      `PUT pubky://${user}/pub/sdk.test/data.json`,
      `PUT pubky://${user}/pub/sdk.test/blob.bin`,
      `DEL pubky://${user}/pub/sdk.test/blob.bin`,
    ]);
    const stream = await readSse(`${testnet.homeserver.url}/events-stream?user=${user}`);
    expect(stream.map((m) => `${m.event} ${m.data.split('\n')[0]}`)).toEqual(ours);
    expect(stream[0]?.data).toContain(`content_hash: ${await blake3Base64('hello from the SDK')}`);
  });

  it('signs out and signs in again', async () => {
    await session.signout();
    session = await pubky.signer(keypair).signin();
    await session.storage.putText('/pub/sdk.test/after-signin.txt', 'again');
    expect(await session.storage.getText('/pub/sdk.test/after-signin.txt')).toBe('again');
  });
});
