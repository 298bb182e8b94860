import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HttpRelay, startHttpRelay } from '../../src/testnet/http-relay.js';

let relay: HttpRelay;
beforeEach(async () => {
  relay = await startHttpRelay({ requestTimeoutMs: 400 });
});
afterEach(() => relay.close());

const channel = () => `${relay.linkUrl}/${Math.random().toString(36).slice(2)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = async (response: Promise<Response>) => {
  const r = await response;
  return `${r.status} ${await r.text()}`;
};

// pubky-core v0.6.0 `http-relay/src/http_relay.rs` (link channels).
describe('HTTP relay link channels', () => {
  it('a waiting GET receives the next POST; the POST answers 200 with an empty body', async () => {
    const url = channel();
    const consumer = text(fetch(url));
    await sleep(50);
    expect(await text(fetch(url, { method: 'POST', body: 'token bytes' }))).toBe('200 ');
    expect(await consumer).toBe('200 token bytes');
  });

  it('a POST waits for its GET, and binary bodies pass unchanged', async () => {
    const url = channel();
    const body = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    const producer = fetch(url, { method: 'POST', body });
    await sleep(50);
    const got = await fetch(url);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(Buffer.from(body));
    expect((await producer).status).toBe(200);
  });

  it('a second GET replaces the first (404); a second POST replaces the first (200)', async () => {
    const url = channel();
    const first = text(fetch(url));
    await sleep(50);
    const second = text(fetch(url));
    expect(await first).toBe('404 Not Found');
    await fetch(url, { method: 'POST', body: 'for the second' });
    expect(await second).toBe('200 for the second');

    const other = channel();
    const oldProducer = text(fetch(other, { method: 'POST', body: 'old' }));
    await sleep(50);
    const newProducer = text(fetch(other, { method: 'POST', body: 'new' }));
    expect(await oldProducer).toBe('200 ');
    expect(await text(fetch(other))).toBe('200 new');
    expect(await newProducer).toBe('200 ');
  });

  it('unanswered requests time out with 408', async () => {
    expect(await text(fetch(channel()))).toBe('408 Request timed out');
    expect(await text(fetch(channel(), { method: 'POST', body: 'x' }))).toBe('408 Request timed out');
  });

  it('a GET whose client left still takes the next POST, which is lost', async () => {
    const url = channel();
    const controller = new AbortController();
    const abandoned = fetch(url, { signal: controller.signal }).catch(() => 'aborted');
    await sleep(50);
    controller.abort();
    expect(await abandoned).toBe('aborted');
    await sleep(20);
    expect(await text(fetch(url, { method: 'POST', body: 'lost' }))).toBe('200 ');
    expect(await text(fetch(url))).toBe('408 Request timed out');
  });

  it('other paths are 404, other methods 405, bodies over 2 MiB 413; CORS allows any origin', async () => {
    expect((await fetch(`${relay.url}/link/`)).status).toBe(404);
    expect((await fetch(`${relay.url}/link/a/b`)).status).toBe(404);
    expect((await fetch(`${relay.url}/other`)).status).toBe(404);
    expect((await fetch(channel(), { method: 'PUT', body: 'x' })).status).toBe(405);
    const big = await fetch(channel(), { method: 'POST', body: new Uint8Array(2 * 1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    const preflight = await fetch(channel(), {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.example');
  });
});
