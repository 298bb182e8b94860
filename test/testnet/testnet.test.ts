import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePubky } from '../../src/identity/index.js';
import { getFromRelay, homeserverOf } from '../../src/pkdns/index.js';
import { seedDemo } from '../../src/testnet/demo.js';
import { startTestnet } from '../../src/testnet/testnet.js';
import { put, signup } from '../helpers/homeserver.js';

describe('testnet with a data folder', () => {
  it('keeps relay packets, users, files and events across a restart; re-seeding the demo is harmless', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-testnet-'));
    const options = { relayPort: 0, homeserverPort: 0, dataDir };
    let testnet = await startTestnet(options);
    const users = await seedDemo(testnet);
    const eventsBefore = testnet.homeserver.state.headCursor;
    await testnet.close();

    testnet = await startTestnet(options);
    try {
      const alice = users[0]?.pubky as string;
      const packet = await getFromRelay(testnet.relay.url, parsePubky(alice));
      expect(packet && homeserverOf(packet)?.z32).toBe(testnet.homeserver.publicKey.z32);
      expect(testnet.homeserver.state.headCursor).toBe(eventsBefore);
      const profile = await fetch(`${testnet.homeserver.url}/pub/pubky.app/profile.json`, {
        headers: { 'pubky-host': alice },
      });
      expect(profile.status).toBe(200);
      const again = await seedDemo(testnet);
      expect(again.map((u) => u.pubky)).toEqual(users.map((u) => u.pubky));
      expect(testnet.homeserver.state.filesOf(alice).size).toBe(users[0]?.files);
    } finally {
      await testnet.close();
    }
  });
});

describe('testnet with several homeservers and a data folder', () => {
  it('keeps each homeserver’s data apart, across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-testnet-'));
    const options = { relayPort: 0, homeserverPort: 0, homeservers: 2, dataDir };
    let testnet = await startTestnet(options);
    const secondAtFirst = testnet.homeservers[1];
    if (!secondAtFirst) throw new Error('no second homeserver');
    const user = await signup(secondAtFirst);
    await put(secondAtFirst, user, '/pub/only-on-2.txt', 'two');
    await testnet.close();

    testnet = await startTestnet(options);
    try {
      const [first, second] = testnet.homeservers;
      expect(second?.state.filesOf(user.z32).get('/pub/only-on-2.txt')?.size).toBe(3);
      expect(first?.state.users.has(user.z32)).toBe(false);
    } finally {
      await testnet.close();
    }
  });
});
