import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { homeserverFixture, put, signup, type TestUser, tenantFetch } from '../helpers/homeserver.js';
import { rawRequest } from '../helpers/raw-http.js';

// Routing and path handling as pubky-homeserver v0.6.0 does it (`client_server/app.rs`,
// `routes/tenants/*`, `shared/webdav/webdav_path.rs`).
let hs: Homeserver;
let user: TestUser;
homeserverFixture(async (started) => {
  hs = started;
  user = await signup(hs);
  await put(hs, user, '/pub/dir/file.txt', 'file');
});

const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  rawRequest(hs.url, method, path, { 'pubky-host': user.z32, cookie: user.cookie, ...headers }, body);

describe('fixed routes', () => {
  it('GET / answers "Pubky Homeserver"; wrong methods are 405', async () => {
    expect(await (await fetch(`${hs.url}/`)).text()).toBe('Pubky Homeserver');
    expect((await fetch(`${hs.url}/signup`)).status).toBe(405);
    expect((await fetch(`${hs.url}/events/`, { method: 'POST' })).status).toBe(405);
  });

  it('/events without the slash is a tenant path, not the feed', async () => {
    const response = await fetch(`${hs.url}/events`);
    expect([response.status, await response.text()]).toEqual([404, 'Pubky Host is missing']);
  });
});

describe('tenant routes', () => {
  it('an invalid ?pubky-host= is the same as none; a key with a port in Host is ignored', async () => {
    const bad = await fetch(`${hs.url}/pub/dir/file.txt?pubky-host=notakey`);
    expect([bad.status, await bad.text()]).toEqual([404, 'Pubky Host is missing']);
    const withPort = await rawRequest(hs.url, 'GET', '/pub/dir/file.txt', { host: `${user.z32}:1234` });
    expect(withPort.status).toBe(404);
  });

  it('everything outside /pub/ is 403, reads too', async () => {
    const read = await tenantFetch(hs, user, '/priv/x');
    expect([read.status, await read.text()]).toEqual([
      403,
      "Writing to directories other than '/pub/' is forbidden",
    ]);
    expect((await tenantFetch(hs, user, '/pub')).status).toBe(403);
  });

  it('other methods need a session, then are 405', async () => {
    expect(
      (await tenantFetch(hs, user, '/pub/dir/file.txt', { method: 'POST', anonymous: true })).status,
    ).toBe(401);
    expect((await tenantFetch(hs, user, '/pub/dir/file.txt', { method: 'PATCH', body: 'x' })).status).toBe(
      405,
    );
  });

  it('GET of a file needs no known user; HEAD does', async () => {
    const stranger = { ...user, z32: Keypair.random().publicKey.z32 };
    const get = await tenantFetch(hs, stranger, '/pub/dir/file.txt');
    expect([get.status, await get.text()]).toEqual([404, 'Not Found']);
    const head = await tenantFetch(hs, stranger, '/pub/dir/file.txt', { method: 'HEAD' });
    expect(head.status).toBe(404);
    const list = await tenantFetch(hs, stranger, '/pub/dir/');
    expect([list.status, await list.text()]).toEqual([404, 'Directory Not Found']);
  });

  it('HEAD of a directory is 404 even with files in it; HEAD never answers 304', async () => {
    expect((await tenantFetch(hs, user, '/pub/dir/', { method: 'HEAD' })).status).toBe(404);
    const etag = (await tenantFetch(hs, user, '/pub/dir/file.txt', { method: 'HEAD' })).headers.get('etag');
    const head = await tenantFetch(hs, user, '/pub/dir/file.txt', {
      method: 'HEAD',
      headers: { 'if-none-match': etag ?? '' },
    });
    expect(head.status).toBe(200);
  });
});

describe('paths', () => {
  it('the whole path is decoded before it is split: %2F is a separator', async () => {
    expect((await raw('PUT', '/pub/a%2Fb.txt', {}, 'ab')).status).toBe(201);
    expect(hs.state.filesOf(user.z32).get('/pub/a/b.txt')?.size).toBe(2);
  });

  it('.. removes a segment, fails above the root, and marks a directory', async () => {
    expect((await raw('PUT', '/pub/x/../y.txt', {}, 'y')).status).toBe(201);
    expect(hs.state.filesOf(user.z32).get('/pub/y.txt')).toBeDefined();
    expect((await raw('GET', '/pub/dir/file.txt/..')).body).toBe(`pubky://${user.z32}/pub/dir/file.txt`);
    expect((await raw('GET', '/pub/../../x')).status).toBe(400);
    // Passes the /pub/ check as written, but names /priv/x once normalised.
    expect((await raw('GET', '/pub/../priv/x')).status).toBe(400);
  });

  it('control characters, invalid UTF-8 and over-long segments are 400', async () => {
    expect((await raw('PUT', '/pub/a%01b', {}, 'x')).status).toBe(400);
    expect((await raw('PUT', '/pub/a%C2%85b', {}, 'x')).status).toBe(400); // U+0085, a C1 control
    expect((await raw('GET', '/pub/%FF')).status).toBe(400);
    expect((await raw('PUT', `/pub/${'a'.repeat(256)}`, {}, 'x')).status).toBe(400);
    expect((await raw('PUT', `/pub/${'a'.repeat(255)}`, {}, 'x')).status).toBe(201);
  });

  it('a PUT to a directory path fails in storage (500) and stores nothing', async () => {
    const response = await tenantFetch(hs, user, '/pub/newdir/', { method: 'PUT', body: 'x' });
    expect(response.status).toBe(500);
    expect([...hs.state.filesOf(user.z32).withPrefix('/pub/newdir')]).toEqual([]);
  });
});
