import { Client, Pubky, Keypair as SdkKeypair, PublicKey as SdkPublicKey } from '@synonymdev/pubky';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { adminFetch } from '../helpers/admin.js';

// The official SDK against a homeserver that wants signup tokens, with the tokens coming from
// the admin server, as pubky-core's own SDK tests get theirs (`createSignupToken`).
let testnet: Testnet;
let pubky: Pubky;
let homeserverKey: SdkPublicKey;
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
  await adminFetch(testnet.admin, '/testnet/signup-mode', { method: 'POST', json: { mode: 'token' } });
  pubky = Pubky.withClient(new Client({ pkarr: { relays: [testnet.relay.url] } }));
  homeserverKey = SdkPublicKey.from(testnet.homeserver.publicKey.z32);
});
afterAll(() => testnet.close());

const signupToken = async () => (await adminFetch(testnet.admin, '/generate_signup_token')).text();

describe('official SDK: signup with an admin-issued token', () => {
  it('signs up with a token; the token then is used up; no token is refused', async () => {
    const token = await signupToken();
    const session = await pubky.signer(SdkKeypair.random()).signup(homeserverKey, token);
    await session.storage.putText('/pub/sdk.test/hello.txt', 'hello');
    expect(await session.storage.getText('/pub/sdk.test/hello.txt')).toBe('hello');
    await expect(pubky.signer(SdkKeypair.random()).signup(homeserverKey, token)).rejects.toMatchObject({
      message: expect.stringContaining('Token already used'),
    });
    await expect(pubky.signer(SdkKeypair.random()).signup(homeserverKey, null)).rejects.toMatchObject({
      message: expect.stringContaining('Token required'),
    });
  });

  it('signs out twice without an error, and the cookie is gone after the first', async () => {
    const keypair = SdkKeypair.random();
    const session = await pubky.signer(keypair).signup(homeserverKey, await signupToken());
    const user = session.info.publicKey.z32();
    await session.storage.putText('/pub/sdk.test/before.txt', 'before');
    await session.signout();
    await session.signout();
    const url = `https://_pubky.${user}/pub/sdk.test/after.txt`;
    const write = await pubky.client.fetch(url, { method: 'PUT', body: 'after', credentials: 'include' });
    expect(write.status).toBe(401);
    const again = await pubky.signer(keypair).signin();
    await again.storage.putText('/pub/sdk.test/after.txt', 'after');
    expect(await again.storage.getText('/pub/sdk.test/after.txt')).toBe('after');
  });
});
