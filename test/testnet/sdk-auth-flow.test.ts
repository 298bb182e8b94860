import {
  AuthFlowKind,
  Client,
  Pubky,
  Keypair as SdkKeypair,
  PublicKey as SdkPublicKey,
} from '@synonymdev/pubky';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';

// pubkyauth (third-party sign-in) end to end with the official SDK: the app starts a flow on the
// testnet's HTTP relay, the user's signer approves it, the app gets a session with exactly the
// capabilities it asked for.
let testnet: Testnet;
let homeserverKey: SdkPublicKey;
const sdk = () => Pubky.withClient(new Client({ pkarr: { relays: [testnet.relay.url] } }));
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
  homeserverKey = SdkPublicKey.from(testnet.homeserver.publicKey.z32);
});
afterAll(() => testnet.close());

describe('pubkyauth through the testnet HTTP relay', () => {
  it('sign-in: the app gets a session with the requested capabilities, and only those', async () => {
    const app = sdk();
    const capabilities = '/pub/app.example/:rw,/pub/shared/file:r';
    const flow = app.startAuthFlow(capabilities, AuthFlowKind.signin(), testnet.httpRelay.linkUrl);
    expect(new URL(flow.authorizationUrl).searchParams.get('relay')).toBe(testnet.httpRelay.linkUrl);

    // The user's own device: signs up, then approves the request it scanned.
    const signer = sdk().signer(SdkKeypair.random());
    await signer.signup(homeserverKey, null);
    await signer.approveAuthRequest(flow.authorizationUrl);

    const session = await flow.awaitApproval();
    expect(session.info.publicKey.z32()).toBe(signer.publicKey.z32());
    expect(session.info.capabilities).toEqual(capabilities.split(','));
    await session.storage.putText('/pub/app.example/settings.json', '{"theme":"dark"}');
    expect(await session.storage.getText('/pub/app.example/settings.json')).toBe('{"theme":"dark"}');
    await expect(session.storage.putText('/pub/elsewhere/x.txt', 'no')).rejects.toMatchObject({
      message: expect.stringContaining('403'),
    });
  });

  it('sign-up kind: the deep link carries the homeserver and the token; approval gives a session', async () => {
    const app = sdk();
    const flow = app.startAuthFlow(
      '/pub/app.example/:rw',
      AuthFlowKind.signup(homeserverKey, 'ABCD-EFGH-JKMN'),
      testnet.httpRelay.linkUrl,
    );
    const link = new URL(flow.authorizationUrl);
    expect([link.protocol, link.host]).toEqual(['pubkyauth:', 'signup']);
    expect([link.searchParams.get('hs'), link.searchParams.get('st')]).toEqual([
      testnet.homeserver.publicKey.z32,
      'ABCD-EFGH-JKMN',
    ]);
    const signer = sdk().signer(SdkKeypair.random());
    await signer.signup(homeserverKey, null);
    await signer.approveAuthRequest(flow.authorizationUrl);
    const session = await flow.awaitApproval();
    expect(session.info.capabilities).toEqual(['/pub/app.example/:rw']);
  });
});
