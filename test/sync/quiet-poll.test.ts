import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import { KeyLayout } from '../../src/store/index.js';
import { sse, startFakeHomeserver } from '../helpers/fake-homeserver.js';
import { blake3Base64 } from '../helpers/homeserver.js';
import { backupOf, openManager } from '../helpers/sync.js';

const user = Keypair.fromSecret(new Uint8Array(32).fill(5)).publicKey.z32;
const uri = (path: string) => `pubky://${user}${path}`;

// A daemon polls every key every 30 s; with 100 keys a quiet poll must cost one feed request and
// no file write (the idle bench's CPU goal), without giving up the feed-reset check.
describe('a quiet poll', () => {
  it('asks the feed once (the replayed window shows the cursor’s event) and does not rewrite last-run.json', async () => {
    const hash = await blake3Base64('hello');
    let reset = false;
    const fake = await startFakeHomeserver((url) => {
      if (url.pathname === '/events-stream') {
        if (reset) return sse([]);
        return sse([{ event: 'PUT', data: [uri('/pub/a.txt'), 'cursor: 1', `content_hash: ${hash}`] }]);
      }
      if (url.pathname === '/events/') return { body: reset ? '' : `PUT ${uri('/pub/a.txt')}\ncursor: 1` };
      return { headers: { etag: `"${hash}"`, 'content-length': '5' }, body: 'hello' };
    });
    const dataDir = await backupOf([{ hs: fake, user: { z32: user } }]);
    const layout = new KeyLayout(dataDir, user);
    const manager = await openManager(dataDir, [user]);
    const [first] = await manager.syncOnce();
    expect(first).toMatchObject({ stored: 1, cursor: '1' });
    const written = (await stat(layout.lastRunFile)).mtimeMs;

    for (let poll = 0; poll < 3; poll++) {
      const before = fake.requests.length;
      const [quiet] = await manager.syncOnce();
      expect(quiet).toMatchObject({ stored: 0, cursor: '1' });
      const asked = fake.requests.slice(before);
      expect(asked, asked.join('\n')).toHaveLength(1);
      expect(asked[0]).toMatch(/^GET \/events-stream\?/);
    }
    expect((await stat(layout.lastRunFile)).mtimeMs).toBe(written);

    // The feed loses the cursor's event (a reset homeserver): the next quiet poll checks and says so.
    reset = true;
    const [afterReset] = await manager.syncOnce();
    expect(afterReset).toMatchObject({ feedReset: true });
  });
});
