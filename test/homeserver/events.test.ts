import { describe, expect, it } from 'vitest';
import {
  type HomeserverClient,
  HomeserverError,
  isMissingRoute,
  type Session,
} from '../../src/homeserver/index.js';
import { Keypair } from '../../src/identity/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { caught } from '../helpers/errors.js';
import { blake3Base64 } from '../helpers/homeserver.js';
import { collect, homeserverClientFixture } from '../helpers/homeserver-client.js';

let hs: Homeserver;
let client: HomeserverClient;
let alice: Session;
let bob: Session;
const text = (value: string) => new TextEncoder().encode(value);

homeserverClientFixture({ inTestnet: true }, async (fixture) => {
  ({ hs, client } = fixture);
  alice = await client.signup(Keypair.random());
  bob = await client.signup(Keypair.random());
  await client.put(alice, '/pub/app/1.txt', text('one')); // event 1
  await client.put(bob, '/pub/app/b.txt', text('bob')); // event 2
  await client.put(alice, '/pub/other/naïve café.txt', text('two')); // event 3
  await client.delete(alice, '/pub/app/1.txt'); // event 4
});

describe('eventsPage', () => {
  it('pages the homeserver-wide feed with string cursors; an empty page has no cursor', async () => {
    const first = await client.eventsPage('0', 3);
    expect(first.cursor).toBe('3');
    expect(first.events).toEqual([
      { type: 'PUT', uri: `pubky://${alice.user}/pub/app/1.txt`, owner: alice.user, path: '/pub/app/1.txt' },
      { type: 'PUT', uri: `pubky://${bob.user}/pub/app/b.txt`, owner: bob.user, path: '/pub/app/b.txt' },
      {
        type: 'PUT',
        uri: `pubky://${alice.user}/pub/other/naïve café.txt`,
        owner: alice.user,
        path: '/pub/other/naïve café.txt',
      },
    ]);
    const second = await client.eventsPage(first.cursor as string, 3);
    expect(second).toEqual({
      skipped: [],
      events: [
        {
          type: 'DEL',
          uri: `pubky://${alice.user}/pub/app/1.txt`,
          owner: alice.user,
          path: '/pub/app/1.txt',
        },
      ],
      cursor: '4',
    });
    expect(await client.eventsPage('4', 3)).toEqual({ events: [], skipped: [] });
  });

  it('validates its arguments and surfaces server errors', async () => {
    await expect(client.eventsPage('1.5', 10)).rejects.toThrow(RangeError);
    await expect(client.eventsPage('0', 1001)).rejects.toThrow(RangeError);
    hs.faults.add({ route: 'events', times: 1, fault: { kind: 'rate-limit', retryAfterSeconds: 7 } });
    const error = await caught(() => client.eventsPage('0', 10), HomeserverError);
    expect(error).toMatchObject({ kind: 'rate-limited', status: 429, retryAfterMs: 7000 });
  });

  it('an unknown verb in the feed is set aside as skipped, never thrown', async () => {
    hs.injectEvent({ type: 'MOVE' as 'PUT', owner: alice.user, uri: `pubky://${alice.user}/pub/x` });
    const page = await client.eventsPage('4', 10);
    expect(page.events).toEqual([]);
    expect(page.skipped).toEqual([
      { type: 'SKIPPED', text: `MOVE pubky://${alice.user}/pub/x`, reason: 'unknown event line' },
    ]);
    expect(page.cursor).toBe('5');
  });
});

describe('eventsStream', () => {
  it('non-live: per-user cursors, content_hash, then the stream ends', async () => {
    const events = await collect(
      client.eventsStream({
        users: [
          { user: alice.user, cursor: '1' },
          { user: bob.user, cursor: '0' },
        ],
      }),
    );
    expect(events).toEqual([
      {
        type: 'PUT',
        uri: `pubky://${bob.user}/pub/app/b.txt`,
        owner: bob.user,
        path: '/pub/app/b.txt',
        cursor: '2',
        contentHash: await blake3Base64('bob'),
      },
      {
        type: 'PUT',
        uri: `pubky://${alice.user}/pub/other/naïve café.txt`,
        owner: alice.user,
        path: '/pub/other/naïve café.txt',
        cursor: '3',
        contentHash: await blake3Base64('two'),
      },
      {
        type: 'DEL',
        uri: `pubky://${alice.user}/pub/app/1.txt`,
        owner: alice.user,
        path: '/pub/app/1.txt',
        cursor: '4',
      },
    ]);
  });

  it('passes limit, reverse and a path filter (with spaces) through', async () => {
    const cursors = async (options: Parameters<HomeserverClient['eventsStream']>[0]) =>
      (await collect(client.eventsStream(options))).map((event) => event.cursor);
    const users = [{ user: alice.user, cursor: '0' }];
    expect(await cursors({ users, limit: 2 })).toEqual(['1', '3']);
    // Reverse: a cursor means "before it" (pubky-homeserver v0.6.0), so cursor 0 gives nothing.
    expect(await cursors({ users, reverse: true })).toEqual([]);
    expect(await cursors({ users: [{ user: alice.user, cursor: '4' }], reverse: true })).toEqual(['3', '1']);
    // Without a cursor, newest first from the head (how the sync engine asks for the feed's head).
    expect(await cursors({ users: [{ user: alice.user }], reverse: true, limit: 1 })).toEqual(['4']);
    expect(await cursors({ users, path: '/pub/other/naïve café' })).toEqual(['3']);
  });

  it('live: receives a PUT made after subscribing, and ends quietly on abort', async () => {
    const controller = new AbortController();
    const stream = client.eventsStream({
      users: [{ user: bob.user, cursor: '2' }],
      live: true,
      signal: controller.signal,
    });
    const first = stream.next();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.put(alice, '/pub/not-bob', text('x'));
    await client.put(bob, '/pub/live/new file', text('live'));
    const result = await first;
    expect(result.value).toEqual({
      type: 'PUT',
      uri: `pubky://${bob.user}/pub/live/new file`,
      owner: bob.user,
      path: '/pub/live/new file',
      cursor: '6',
      contentHash: await blake3Base64('live'),
    });
    const pending = stream.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('live: a connection that drops is a network error', async () => {
    const stream = client.eventsStream({ users: [{ user: bob.user, cursor: '2' }], live: true });
    const next = stream.next();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await hs.close();
    const error = await caught(() => next, HomeserverError);
    expect(error.kind).toBe('network');
  });

  it('live with a limit ends normally once the limit is reached', async () => {
    const events = await collect(
      client.eventsStream({ users: [{ user: alice.user, cursor: '0' }], live: true, limit: 2 }),
    );
    expect(events.map((event) => event.cursor)).toEqual(['1', '3']);
  });

  it('an unknown user is not-found, and not a missing route', async () => {
    const stranger = Keypair.random().publicKey.z32;
    const error = await caught(
      () => collect(client.eventsStream({ users: [{ user: stranger, cursor: '0' }] })),
      HomeserverError,
    );
    expect(error).toMatchObject({ kind: 'not-found', status: 404, missingRoute: false });
    expect(error.body).toBe('Not Found'); // what real homeservers answer, too
    expect(isMissingRoute(error)).toBe(false);
  });

  it('a homeserver without /events-stream is a missing route, thrown before any event', async () => {
    hs.faults.add({ route: 'events-stream', fault: { kind: 'status', status: 404, body: 'Not Found' } });
    const error = await caught(
      () => client.eventsStream({ users: [{ user: alice.user, cursor: '0' }] }).next(),
      HomeserverError,
    );
    expect(error).toMatchObject({ kind: 'not-found', status: 404, body: 'Not Found', missingRoute: true });
    expect(isMissingRoute(error)).toBe(true);
    expect(error.message).toContain(`Homeserver ${hs.url} answered 404 for GET /events-stream`);
  });

  it('the real homeserver says "Not Found" for an unknown user too: the probe tells them apart', async () => {
    // One 404 "Not Found" for the stream; the parameterless probe then gets the route's own 400.
    hs.faults.add({
      route: 'events-stream',
      times: 1,
      fault: { kind: 'status', status: 404, body: 'Not Found' },
    });
    const error = await caught(
      () => client.eventsStream({ users: [{ user: alice.user, cursor: '0' }] }).next(),
      HomeserverError,
    );
    expect(error.missingRoute).toBe(false);
    expect(isMissingRoute(error)).toBe(false);
  });

  it('other failures: 503 server, reset network, bad arguments RangeError', async () => {
    const users = [{ user: alice.user, cursor: '0' }];
    hs.faults.add({ route: 'events-stream', times: 1, fault: { kind: 'status', status: 503 } });
    expect((await caught(() => collect(client.eventsStream({ users })), HomeserverError)).kind).toBe(
      'server',
    );
    hs.faults.add({ route: 'events-stream', times: 1, fault: { kind: 'reset' } });
    expect((await caught(() => collect(client.eventsStream({ users })), HomeserverError)).kind).toBe(
      'network',
    );
    await expect(collect(client.eventsStream({ users: [] }))).rejects.toThrow(RangeError);
    await expect(
      collect(client.eventsStream({ users: [{ user: alice.user, cursor: 'x' }] })),
    ).rejects.toThrow(RangeError);
    await expect(collect(client.eventsStream({ users, live: true, reverse: true }))).rejects.toThrow(
      RangeError,
    );
  });
});
