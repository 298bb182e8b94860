import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import type { AdminServer } from '../../src/testnet/admin/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { adminFetch } from '../helpers/admin.js';
import { blake3Base64, put, signup, type TestUser, tenantFetch } from '../helpers/homeserver.js';

// The testnet's own controls on the admin server (`/testnet/…`), for tests that drive the
// testnet over HTTP only (CLI, browser) and for people rehearsing a bad day.
let testnet: Testnet;
let admin: AdminServer;
let hs: Homeserver;
let user: TestUser;
beforeEach(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
  admin = testnet.admin;
  hs = testnet.homeserver;
  user = await signup(hs);
  await put(hs, user, '/pub/app/a.txt', 'original');
});
afterEach(() => testnet.close());

const post = (path: string, json?: unknown) => adminFetch(admin, path, { method: 'POST', json });
const read = (path = '/pub/app/a.txt') => tenantFetch(hs, user, path, { anonymous: true });

describe('stop and start', () => {
  it('stop closes the port (a real outage) and cuts live streams; start brings it all back', async () => {
    const live = await fetch(`${hs.url}/events-stream?user=${user.z32}&live=true`);
    const reader = (live.body as ReadableStream<Uint8Array>).getReader();
    expect(await (await post('/testnet/stop')).json()).toMatchObject({
      running: false,
      key: hs.publicKey.z32,
    });
    await expect(fetch(`${hs.url}/`)).rejects.toThrow();
    // The cut arrives as an error mid-stream, as when a server goes away.
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return 'ended cleanly';
      })(),
    ).rejects.toThrow();
    // The admin server stays up while the homeserver is down.
    expect(await (await adminFetch(admin, '/testnet')).json()).toMatchObject({ running: false });

    expect(await (await post('/testnet/start')).json()).toMatchObject({ running: true, url: hs.url });
    expect(await (await read()).text()).toBe('original');
    // Sessions survive too: the old cookie still writes.
    expect((await tenantFetch(hs, user, '/pub/app/b.txt', { method: 'PUT', body: 'b' })).status).toBe(201);
  });

  it('signup-mode switches between open and token signup', async () => {
    expect(await (await post('/testnet/signup-mode', { mode: 'token' })).json()).toMatchObject({
      signupMode: 'token',
    });
    await expect(signup(hs)).rejects.toThrow('400 Token required');
    expect((await post('/testnet/signup-mode', { mode: 'maybe' })).status).toBe(400);
  });
});

describe('faults over HTTP', () => {
  it('POST adds a rule (id), GET lists it, DELETE /{id} removes it', async () => {
    const added = await post('/testnet/faults', {
      route: 'read',
      pathPattern: '\\.txt$',
      fault: { kind: 'status', status: 503, body: 'down for a bit' },
    });
    expect(added.status).toBe(201);
    const { id } = (await added.json()) as { id: number };
    expect(await (await adminFetch(admin, '/testnet/faults')).json()).toEqual({
      rules: [
        {
          id,
          route: 'read',
          pathPattern: '\\.txt$',
          fault: { kind: 'status', status: 503, body: 'down for a bit' },
        },
      ],
    });
    const failing = await read();
    expect([failing.status, await failing.text()]).toEqual([503, 'down for a bit']);
    expect((await adminFetch(admin, `/testnet/faults/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await adminFetch(admin, `/testnet/faults/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await read()).status).toBe(200);
  });

  it('an array adds several rules; counted rules expire; DELETE clears the rest', async () => {
    const added = await post('/testnet/faults', [
      { route: 'events', times: 1, fault: { kind: 'rate-limit', retryAfterSeconds: 9 } },
      { user: `pubky${user.z32}`, path: '/pub/app/a.txt', fault: { kind: 'tamper' } },
      { route: ['list'], fault: { kind: 'latency', ms: 1 } },
    ]);
    expect(((await added.json()) as { ids: number[] }).ids).toHaveLength(3);
    const limited = await fetch(`${hs.url}/events/`);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '9']);
    expect((await fetch(`${hs.url}/events/`)).status).toBe(200);
    const tampered = await read();
    expect(tampered.headers.get('etag')).toBe(`"${await blake3Base64('original')}"`);
    expect(await tampered.text()).not.toBe('original');
    expect(
      ((await (await adminFetch(admin, '/testnet/faults')).json()) as { rules: unknown[] }).rules,
    ).toHaveLength(2);
    expect(await (await adminFetch(admin, '/testnet/faults', { method: 'DELETE' })).json()).toEqual({
      cleared: 2,
    });
    expect(await (await read()).text()).toBe('original');
  });

  it('reset, truncate and drop work over HTTP too', async () => {
    await post('/testnet/faults', { route: 'read', times: 1, fault: { kind: 'reset' } });
    await expect(read()).rejects.toThrow();
    await put(hs, user, '/pub/app/big.bin', new Uint8Array(200_000));
    await post('/testnet/faults', {
      path: '/pub/app/big.bin',
      times: 1,
      fault: { kind: 'truncate', afterBytes: 10 },
    });
    await expect((await read('/pub/app/big.bin')).arrayBuffer()).rejects.toThrow();
    await post('/testnet/faults', { route: 'read', times: 1, fault: { kind: 'drop' } });
    expect((await read()).status).toBe(404);
  });

  it('400 for an invalid rule, with the reason', async () => {
    const bad = async (json: unknown) => {
      const r = await post('/testnet/faults', json);
      return `${r.status} ${await r.text()}`;
    };
    expect(await bad({ fault: { kind: 'explode' } })).toMatch(/^400 Invalid body: fault/);
    expect(await bad({ route: 'nowhere', fault: { kind: 'reset' } })).toMatch(/^400 Invalid body: route/);
    expect(await bad({ pathPattern: '(', fault: { kind: 'reset' } })).toMatch(
      /^400 Invalid body: pathPattern/,
    );
    expect(await bad({ path: '/a', pathPattern: 'a', fault: { kind: 'reset' } })).toMatch(/not both/);
    expect((await adminFetch(admin, '/testnet/faults', { method: 'POST', body: '{' })).status).toBe(400);
    expect(
      ((await (await adminFetch(admin, '/testnet/faults')).json()) as { rules: unknown[] }).rules,
    ).toEqual([]);
  });
});

describe('files changed behind the feed’s back', () => {
  it('replace: new bytes and metadata, no event', async () => {
    const head = hs.state.headCursor;
    const response = await post('/testnet/tamper', {
      user: user.z32,
      path: '/pub/app/a.txt',
      mode: 'replace',
      text: 'changed',
    });
    expect(await response.json()).toEqual({
      user: user.z32,
      path: '/pub/app/a.txt',
      size: 7,
      etag: `"${await blake3Base64('changed')}"`,
      contentType: 'text/plain',
    });
    const got = await read();
    expect([await got.text(), got.headers.get('etag')]).toEqual([
      'changed',
      `"${await blake3Base64('changed')}"`,
    ]);
    expect(hs.state.headCursor).toBe(head);
  });

  it('replace with base64 can create a file no event announced', async () => {
    await post('/testnet/tamper', {
      user: user.z32,
      path: '/pub/app/ghost.bin',
      mode: 'replace',
      base64: Buffer.from([1, 2, 3]).toString('base64'),
    });
    expect([...new Uint8Array(await (await read('/pub/app/ghost.bin')).arrayBuffer())]).toEqual([1, 2, 3]);
    expect(await (await fetch(`${hs.url}/events/`)).text()).not.toContain('ghost');
  });

  it('corrupt: bytes change under the old ETag and length', async () => {
    await post('/testnet/tamper', { user: user.z32, path: '/pub/app/a.txt', mode: 'corrupt' });
    const got = await read();
    const bytes = new Uint8Array(await got.arrayBuffer());
    expect(got.headers.get('etag')).toBe(`"${await blake3Base64('original')}"`);
    expect(bytes).toHaveLength(8);
    expect(await blake3Base64(bytes)).not.toBe(await blake3Base64('original'));
  });

  it('remove: gone from storage and listings, no DEL event', async () => {
    await put(hs, user, '/pub/app/b.txt', 'b');
    const head = hs.state.headCursor;
    expect(
      await (
        await post('/testnet/tamper', { user: user.z32, path: '/pub/app/a.txt', mode: 'remove' })
      ).json(),
    ).toEqual({
      user: user.z32,
      path: '/pub/app/a.txt',
      removed: true,
    });
    expect((await read()).status).toBe(404);
    expect(await (await read('/pub/app/')).text()).toBe(`pubky://${user.z32}/pub/app/b.txt`);
    expect(hs.state.headCursor).toBe(head);
  });

  it('404 for a missing file to corrupt or remove; 400 for a bad body', async () => {
    expect(
      (await post('/testnet/tamper', { user: user.z32, path: '/pub/none', mode: 'remove' })).status,
    ).toBe(404);
    expect(
      (await post('/testnet/tamper', { user: user.z32, path: '/pub/app/a.txt', mode: 'replace' })).status,
    ).toBe(400);
    expect(
      (await post('/testnet/tamper', { user: 'x', path: '/pub/app/a.txt', mode: 'remove' })).status,
    ).toBe(400);
    expect((await post('/testnet/tamper', { user: user.z32, path: '/priv/a', mode: 'remove' })).status).toBe(
      400,
    );
  });
});

describe('mass delete and raw feed lines', () => {
  it('mass-delete deletes for real with DEL events', async () => {
    for (let i = 0; i < 4; i++) await put(hs, user, `/pub/m/${i}`, `${i}`);
    const response = await post('/testnet/mass-delete', { user: user.z32, prefix: '/pub/m/', fraction: 0.5 });
    expect(await response.json()).toEqual({ deleted: 2 });
    expect(hs.state.filesOf(user.z32).size).toBe(3);
  });

  it('events adds a line that matches no stored file', async () => {
    const stranger = Keypair.random().publicKey.z32;
    const response = await post('/testnet/events', { type: 'PUT', uri: `pubky://${user.z32}/priv/secret` });
    expect(response.status).toBe(201);
    const { cursor } = (await response.json()) as { cursor: number };
    await post('/testnet/events', { type: 'DEL', owner: user.z32, uri: `pubky://${stranger}/pub/x` });
    expect(await (await fetch(`${hs.url}/events/?cursor=${cursor - 1}`)).text()).toBe(
      [`PUT pubky://${user.z32}/priv/secret`, `DEL pubky://${stranger}/pub/x`, `cursor: ${cursor + 1}`].join(
        '\n',
      ),
    );
    expect((await post('/testnet/events', { type: 'PUT', uri: 'nothing' })).status).toBe(400);
  });
});
