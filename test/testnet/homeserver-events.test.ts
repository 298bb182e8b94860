import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import { legacyCursorOf } from '../../src/testnet/homeserver/event-cursor.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import {
  blake3Base64,
  homeserverFixture,
  put,
  readSse,
  signup,
  type TestUser,
  tenantFetch,
} from '../helpers/homeserver.js';

let hs: Homeserver;
let alice: TestUser;
let bob: TestUser;
homeserverFixture(async (started) => {
  hs = started;
  alice = await signup(hs);
  bob = await signup(hs);
  await put(hs, alice, '/pub/app/1.txt', 'one'); // event 1
  await put(hs, bob, '/pub/app/b.txt', 'bob'); // event 2
  await put(hs, alice, '/pub/other/2.txt', 'two'); // event 3
  await tenantFetch(hs, alice, '/pub/app/1.txt', { method: 'DELETE' }); // event 4
});

describe('GET /events/', () => {
  it('lists every user’s events with a final cursor line', async () => {
    const response = await fetch(`${hs.url}/events/`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await response.text()).split('\n')).toEqual([
      `PUT pubky://${alice.z32}/pub/app/1.txt`,
      `PUT pubky://${bob.z32}/pub/app/b.txt`,
      `PUT pubky://${alice.z32}/pub/other/2.txt`,
      `DEL pubky://${alice.z32}/pub/app/1.txt`,
      'cursor: 4',
    ]);
  });

  it('cursor and limit page; an empty page has no cursor line; bad cursor → 400', async () => {
    expect(await (await fetch(`${hs.url}/events/?cursor=1&limit=2`)).text()).toBe(
      [`PUT pubky://${bob.z32}/pub/app/b.txt`, `PUT pubky://${alice.z32}/pub/other/2.txt`, 'cursor: 3'].join(
        '\n',
      ),
    );
    expect(await (await fetch(`${hs.url}/events/?cursor=4`)).text()).toBe('');
    expect((await fetch(`${hs.url}/events/?cursor=abc`)).status).toBe(400);
  });

  it('parses its query like a listing: negative and legacy cursors, junk limits, strict booleans', async () => {
    const text = async (query: string) => {
      const response = await fetch(`${hs.url}/events/?${query}`);
      return `${response.status} ${await response.text()}`;
    };
    const all = await text('');
    expect(await text('cursor=-5')).toBe(all);
    expect(await text('cursor=')).toBe(all);
    expect(await text('limit=junk')).toBe(all);
    expect(await text('limit=0')).toBe('200 ');
    expect(await text('reverse=maybe')).toBe('400 Invalid boolean parameter');
    // A legacy cursor (the 13-character timestamp of an event) continues after that event.
    const second = hs.state.events[1]?.createdAtMicros as number;
    expect(await text(`cursor=${legacyCursorOf(second)}`)).toBe(await text('cursor=2'));
    expect(await text(`cursor=${legacyCursorOf(second + 1)}`)).toBe('400 Invalid cursor');
  });

  it('limit is capped at 1000', async () => {
    for (let i = 0; i < 1001; i++) await put(hs, bob, `/pub/n/${i}`, '');
    const lines = (await (await fetch(`${hs.url}/events/?limit=65535`)).text()).split('\n');
    expect(lines).toHaveLength(1001);
    expect(lines.at(-1)).toBe('cursor: 1000');
  });
});

describe('GET /events-stream', () => {
  const stream = (query: string) => readSse(`${hs.url}/events-stream?${query}`);

  it('non-live: the user’s backlog with cursor and content_hash, then the stream ends', async () => {
    const response = await fetch(`${hs.url}/events-stream?user=${alice.z32}`);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    await response.body?.cancel();
    const messages = await stream(`user=${alice.z32}`);
    expect(messages).toEqual([
      {
        event: 'PUT',
        data: `pubky://${alice.z32}/pub/app/1.txt\ncursor: 1\ncontent_hash: ${await blake3Base64('one')}`,
      },
      {
        event: 'PUT',
        data: `pubky://${alice.z32}/pub/other/2.txt\ncursor: 3\ncontent_hash: ${await blake3Base64('two')}`,
      },
      { event: 'DEL', data: `pubky://${alice.z32}/pub/app/1.txt\ncursor: 4` },
    ]);
  });

  it('per-user cursors, several users merged by id, path filter, limit, reverse', async () => {
    const ids = (messages: { data: string }[]) =>
      messages.map((m) => Number(/cursor: (\d+)/.exec(m.data)?.[1]));
    expect(ids(await stream(`user=${alice.z32}:1`))).toEqual([3, 4]);
    expect(ids(await stream(`user=${alice.z32}:3&user=${bob.z32}`))).toEqual([2, 4]);
    expect(ids(await stream(`user=${alice.z32}&user=${bob.z32}&path=pub/app/`))).toEqual([1, 2, 4]);
    expect(ids(await stream(`user=${alice.z32}&limit=2`))).toEqual([1, 3]);
    expect(ids(await stream(`user=${alice.z32}&reverse=true`))).toEqual([4, 3, 1]);
  });

  it('reverse: a cursor means "before it", so cursor 0 gives nothing; reverse=yes is not true', async () => {
    const ids = (messages: { data: string }[]) =>
      messages.map((m) => Number(/cursor: (\d+)/.exec(m.data)?.[1]));
    expect(ids(await stream(`user=${alice.z32}:4&reverse=true`))).toEqual([3, 1]);
    expect(ids(await stream(`user=${alice.z32}:3&user=${bob.z32}&reverse=1`))).toEqual([2, 1]);
    expect(ids(await stream(`user=${alice.z32}:0&reverse=true`))).toEqual([]);
    expect(ids(await stream(`user=${alice.z32}&reverse=yes`))).toEqual([1, 3, 4]);
  });

  it('limit is checked after each event (limit=0 sends one); path is normalised', async () => {
    const ids = (messages: { data: string }[]) =>
      messages.map((m) => Number(/cursor: (\d+)/.exec(m.data)?.[1]));
    expect(ids(await stream(`user=${alice.z32}&limit=0`))).toEqual([1]);
    expect(ids(await stream(`user=${alice.z32}&path=pub/app/../other/`))).toEqual([3]);
    expect(ids(await stream(`user=&user=${bob.z32}&path=`))).toEqual([2]);
  });

  it('live: backlog, then new events as they are written', async () => {
    const reading = readSse(`${hs.url}/events-stream?user=${bob.z32}:2&live=true`, 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await put(hs, alice, '/pub/not-bob', 'x');
    await put(hs, bob, '/pub/live/1', 'l1');
    await put(hs, bob, '/pub/live/2', 'l2');
    const messages = await reading;
    expect(messages.map((m) => m.data.split('\n')[0])).toEqual([
      `pubky://${bob.z32}/pub/live/1`,
      `pubky://${bob.z32}/pub/live/2`,
    ]);
  });

  it('rejects bad parameters: 400 for none/too many/pubky-prefixed/live+reverse, 404 unknown user', async () => {
    const status = async (query: string) => (await fetch(`${hs.url}/events-stream?${query}`)).status;
    expect(await status('')).toBe(400);
    expect(await status(`user=pubky${alice.z32}`)).toBe(400);
    expect(await status(`user=${alice.z32}&live=true&reverse=true`)).toBe(400);
    expect(await status(`user=${alice.z32}:notanumber`)).toBe(400);
    expect(await status(`user=${Keypair.random().publicKey.z32}`)).toBe(404);
    const many = Array.from({ length: 51 }, () => `user=${alice.z32}`).join('&');
    expect(await status(many)).toBe(400);
    const body = async (query: string) => (await fetch(`${hs.url}/events-stream?${query}`)).text();
    expect(await body('user=')).toBe('user parameter is required');
    expect(await body(`user=${alice.z32}&limit=abc`)).toBe('Invalid limit: abc');
    expect(await body(`user=${alice.z32}:1:2`)).toBe('Invalid cursor: 1:2');
    expect(await body(`user=${alice.z32}&path=/..`)).toBe('Invalid path: /..');
    expect(await body(many)).toBe('Too many users. Maximum allowed: 50');
  });
});
