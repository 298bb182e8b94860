import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import {
  blake3Base64,
  homeserverFixture,
  put,
  signup,
  type TestUser,
  tenantFetch,
} from '../helpers/homeserver.js';

let hs: Homeserver;
let user: TestUser;
const BODY = new Uint8Array(300_000).map((_, i) => i % 251);
homeserverFixture(async (started) => {
  hs = started;
  user = await signup(hs);
  await put(hs, user, '/pub/f.bin', BODY);
});

const get = (path = '/pub/f.bin') => tenantFetch(hs, user, path, { anonymous: true });

describe('fault injection', () => {
  it('is off unless a test adds a rule', async () => {
    const response = await get();
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from(BODY));
  });

  it('latency delays the answer', async () => {
    hs.faults.add({ route: 'read', fault: { kind: 'latency', ms: 300 } });
    const started = performance.now();
    expect((await get()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('status: a 5xx for a counted number of requests, then normal again', async () => {
    hs.faults.add({ route: 'read', times: 2, fault: { kind: 'status', status: 503 } });
    expect((await get()).status).toBe(503);
    expect((await get()).status).toBe(503);
    expect((await get()).status).toBe(200);
  });

  it('rate-limit: 429 with Retry-After', async () => {
    hs.faults.add({ route: 'events', times: 1, fault: { kind: 'rate-limit', retryAfterSeconds: 7 } });
    const response = await fetch(`${hs.url}/events/`);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
  });

  it('reset: the connection dies without an answer', async () => {
    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'reset' } });
    await expect(get()).rejects.toThrow();
    expect((await get()).status).toBe(200);
  });

  it('truncate: full Content-Length, then the body stops short', async () => {
    hs.faults.add({ route: 'read', fault: { kind: 'truncate', afterBytes: 100_000 } });
    const response = await get();
    expect(response.headers.get('content-length')).toBe(String(BODY.length));
    await expect(response.arrayBuffer()).rejects.toThrow();
  });

  it('tamper: bytes that do not match the ETag', async () => {
    hs.faults.add({ route: 'read', path: '/pub/f.bin', fault: { kind: 'tamper' } });
    const response = await get();
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes).toHaveLength(BODY.length);
    expect(response.headers.get('etag')).toBe(`"${await blake3Base64(BODY)}"`);
    expect(await blake3Base64(bytes)).not.toBe(await blake3Base64(BODY));
  });

  it('drop: the file is gone though the feed still announces it', async () => {
    hs.faults.add({ route: 'read', path: /\.bin$/, fault: { kind: 'drop' } });
    expect((await get()).status).toBe(404);
    expect(await (await fetch(`${hs.url}/events/`)).text()).toContain('PUT ');
  });

  it('rules can target a user and be removed', async () => {
    const other = await signup(hs);
    await put(hs, other, '/pub/f.bin', 'other');
    const remove = hs.faults.add({ user: other.z32, fault: { kind: 'status', status: 500 } });
    expect((await tenantFetch(hs, other, '/pub/f.bin')).status).toBe(500);
    expect((await get()).status).toBe(200);
    remove();
    expect((await tenantFetch(hs, other, '/pub/f.bin')).status).toBe(200);
  });

  it('mass delete: files really go, each with a DEL event', async () => {
    for (let i = 0; i < 9; i++) await put(hs, user, `/pub/m/${i}`, `${i}`);
    expect(await hs.massDelete(user.z32, { fraction: 0.5 })).toBe(5);
    const feed = (await (await fetch(`${hs.url}/events/?cursor=10`)).text()).split('\n');
    expect(feed.filter((line) => line.startsWith('DEL '))).toHaveLength(5);
    expect(hs.state.filesOf(user.z32).size).toBe(5);
  });

  it('injected events: outside /pub/, escaping with .., for another user, never stored', async () => {
    const stranger = Keypair.random().publicKey.z32;
    hs.injectEvent({ type: 'PUT', owner: user.z32, uri: `pubky://${user.z32}/priv/secret` });
    hs.injectEvent({ type: 'PUT', owner: user.z32, uri: `pubky://${user.z32}/pub/../../etc/passwd` });
    hs.injectEvent({ type: 'DEL', owner: user.z32, uri: `pubky://${stranger}/pub/f.bin` });
    const feed = (await (await fetch(`${hs.url}/events/?cursor=1`)).text()).split('\n');
    expect(feed).toEqual([
      `PUT pubky://${user.z32}/priv/secret`,
      `PUT pubky://${user.z32}/pub/../../etc/passwd`,
      `DEL pubky://${stranger}/pub/f.bin`,
      'cursor: 4',
    ]);
    expect((await get()).status).toBe(200);
  });
});
