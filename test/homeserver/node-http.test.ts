import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomeserverClient, HomeserverError, type Session } from '../../src/homeserver/index.js';
import { Keypair } from '../../src/identity/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { caught } from '../helpers/errors.js';
import { startFakeHomeserver } from '../helpers/fake-homeserver.js';
import { startHomeserver } from '../helpers/homeserver.js';

// HEAD and PUT go over node:http (restore and verify send thousands): the same promises as fetch.
let hs: Homeserver;
let client: HomeserverClient;
let session: Session;
beforeEach(async () => {
  hs = await startHomeserver();
  client = new HomeserverClient({ baseUrl: hs.url, requestTimeoutMs: 400 });
  session = await client.signup(Keypair.random());
});
afterEach(() => hs.close());

async function* slowly(chunks: number, pauseMs: number) {
  for (let i = 0; i < chunks; i++) {
    yield new Uint8Array(1000).fill(i);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

describe('PUT and HEAD over node:http', () => {
  it('a slow but moving upload is fine; one that stops sending is given up after the timeout', async () => {
    await client.put(session, '/pub/slow.bin', slowly(5, 150), { contentLength: 5000 });
    expect((await client.head(session.user, '/pub/slow.bin')).size).toBe(5000);
    const stalled = await caught(
      () => client.put(session, '/pub/stalled.bin', slowly(2, 5000), { contentLength: 2000 }),
      HomeserverError,
    );
    expect(stalled.kind).toBe('network');
    expect(hs.state.filesOf(session.user).get('/pub/stalled.bin')).toBeUndefined();
  });

  it('aborts on the signal; a body that throws leaves nothing stored and is the cause', async () => {
    const controller = new AbortController();
    const put = client.put(session, '/pub/aborted.bin', slowly(10, 100), {
      contentLength: 10_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 150);
    expect((await caught(put, HomeserverError)).kind).toBe('aborted');
    const reason = new Error('the source is damaged');
    async function* failing() {
      yield new Uint8Array(1000);
      throw reason;
    }
    const failed = await caught(
      () => client.put(session, '/pub/failed.bin', failing(), { contentLength: 2000 }),
      HomeserverError,
    );
    expect(failed.cause).toBe(reason);
    expect(hs.state.filesOf(session.user).get('/pub/failed.bin')).toBeUndefined();
  });

  it('an answer before the body is sent (401) is the error, not a hang; the socket is reused otherwise', async () => {
    const forged: Session = { user: session.user, cookie: `${session.user}=forged` };
    const refused = await caught(
      () => client.put(forged, '/pub/big.bin', slowly(50, 10), { contentLength: 50_000 }),
      HomeserverError,
    );
    expect(refused).toMatchObject({ kind: 'auth', status: 401 });
    const fake = await startFakeHomeserver(() => ({
      status: 503,
      headers: { 'retry-after': '7' },
      body: 'busy',
    }));
    const other = new HomeserverClient({ baseUrl: fake.url });
    const busy = await caught(() => other.put(session, '/pub/x', new Uint8Array(10)), HomeserverError);
    expect(busy).toMatchObject({ kind: 'server', status: 503, body: 'busy', retryAfterMs: 7000 });
    expect((await caught(() => other.head(session.user, '/pub/x'), HomeserverError)).status).toBe(503);
    expect(fake.requests).toEqual(['PUT /pub/x', 'HEAD /pub/x']);
  });
});
