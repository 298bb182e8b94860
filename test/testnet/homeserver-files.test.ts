import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
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
const homeservers = homeserverFixture(async (started) => {
  hs = started;
  user = await signup(hs);
});

describe('tenant selection', () => {
  it('404 "Pubky Host is missing" without pubky-host, Host or query', async () => {
    const response = await fetch(`${hs.url}/pub/`);
    expect([response.status, await response.text()]).toEqual([404, 'Pubky Host is missing']);
  });

  it('by ?pubky-host= query and by a Host header that is the key', async () => {
    await put(hs, user, '/pub/a.txt', 'A');
    expect(await (await fetch(`${hs.url}/pub/a.txt?pubky-host=${user.z32}`)).text()).toBe('A');
    const byHost = await new Promise<string>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(`${hs.url}/pub/a.txt`, { headers: { host: user.z32 } }, (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    });
    expect(byHost).toBe('A');
  });
});

describe('PUT / GET / HEAD / DELETE', () => {
  it('PUT answers 201; GET serves the bytes with ETag = quoted base64 BLAKE3 and the other headers', async () => {
    const body = 'hello pubky';
    const created = await tenantFetch(hs, user, '/pub/app/hello.txt', {
      method: 'PUT',
      body,
      headers: { 'content-type': 'text/plain' },
    });
    expect([created.status, await created.text()]).toEqual([201, '']);
    const got = await tenantFetch(hs, user, '/pub/app/hello.txt', { anonymous: true });
    expect(got.status).toBe(200);
    expect(await got.text()).toBe(body);
    expect(got.headers.get('etag')).toBe(`"${await blake3Base64(body)}"`);
    expect(got.headers.get('content-length')).toBe(String(body.length));
    expect(got.headers.get('content-type')).toBe('text/plain');
    expect(got.headers.get('vary')).toBe('pubky-host');
    expect(got.headers.get('cache-control')).toBe('private, must-revalidate');
    expect(Date.parse(got.headers.get('last-modified') ?? '')).not.toBeNaN();
  });

  it('HEAD gives the same headers and no body', async () => {
    await put(hs, user, '/pub/h.bin', new Uint8Array(1000));
    const head = await tenantFetch(hs, user, '/pub/h.bin', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('1000');
    expect(head.headers.get('etag')).toBe(`"${await blake3Base64(new Uint8Array(1000))}"`);
    expect(await head.text()).toBe('');
  });

  it('conditional GET: If-None-Match (a list, compared as is) before If-Modified-Since → 304', async () => {
    await put(hs, user, '/pub/c.txt', 'c');
    const first = await tenantFetch(hs, user, '/pub/c.txt');
    const etag = first.headers.get('etag') ?? '';
    const lastModified = first.headers.get('last-modified') ?? '';
    const conditional = (headers: Record<string, string>) => tenantFetch(hs, user, '/pub/c.txt', { headers });
    const notModified = await conditional({ 'if-none-match': `"other", ${etag}` });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(etag);
    expect(notModified.headers.get('last-modified')).toBe(lastModified);
    // pubky-homeserver compares the tags as written: no weak form, no `*`.
    expect((await conditional({ 'if-none-match': `W/${etag}` })).status).toBe(200);
    expect((await conditional({ 'if-none-match': '*' })).status).toBe(200);
    expect((await conditional({ 'if-none-match': '"other"' })).status).toBe(200);
    // If-None-Match wins: a stale one means 200 even when If-Modified-Since would match.
    expect(
      (await conditional({ 'if-none-match': '"other"', 'if-modified-since': lastModified })).status,
    ).toBe(200);
    expect((await conditional({ 'if-modified-since': lastModified })).status).toBe(304);
    expect((await conditional({ 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status).toBe(200);
  });

  it('404 for a missing file; DELETE answers 204 and then 404', async () => {
    expect((await tenantFetch(hs, user, '/pub/none.txt')).status).toBe(404);
    await put(hs, user, '/pub/d.txt', 'd');
    expect((await tenantFetch(hs, user, '/pub/d.txt', { method: 'DELETE' })).status).toBe(204);
    expect((await tenantFetch(hs, user, '/pub/d.txt')).status).toBe(404);
    expect((await tenantFetch(hs, user, '/pub/d.txt', { method: 'DELETE' })).status).toBe(404);
  });

  it('413 above the body limit and 507 above the quota, storing nothing', async () => {
    await hs.close();
    hs = await homeservers.start({ limits: { maxBodyBytes: 1000, quotaBytes: 1500 } });
    user = await signup(hs);
    expect(
      (await tenantFetch(hs, user, '/pub/big', { method: 'PUT', body: new Uint8Array(1001) })).status,
    ).toBe(413);
    await put(hs, user, '/pub/one', new Uint8Array(1000));
    const over = await tenantFetch(hs, user, '/pub/two', { method: 'PUT', body: new Uint8Array(600) });
    expect(over.status).toBe(507);
    expect((await tenantFetch(hs, user, '/pub/two')).status).toBe(404);
    // Replacing a file counts only the difference.
    await put(hs, user, '/pub/one', new Uint8Array(900));
  });

  it('paths are stored decoded and normalised; listings and the feed show them verbatim', async () => {
    await put(hs, user, '/pub/files/na%C3%AFve%20caf%C3%A9.txt', 'x');
    await put(hs, user, '/pub/files/./sub/../%2e%2e.txt', 'y');
    const listing = await (await tenantFetch(hs, user, '/pub/files/')).text();
    expect(listing.split('\n')).toEqual([
      `pubky://${user.z32}/pub/files/...txt`,
      `pubky://${user.z32}/pub/files/naïve café.txt`,
    ]);
    const feed = await (await fetch(`${hs.url}/events/`)).text();
    expect(feed).toContain(`PUT pubky://${user.z32}/pub/files/naïve café.txt`);
    expect((await tenantFetch(hs, user, '/pub/%00bad', { method: 'PUT', body: 'z' })).status).toBe(400);
  });
});

describe('directory listings', () => {
  const files = [
    '/pub/app/a.txt',
    '/pub/app/b/1.txt',
    '/pub/app/b/2.txt',
    '/pub/app/c.txt',
    '/pub/app/d/x/y.txt',
  ];
  beforeEach(async () => {
    for (const path of [...files].reverse()) await put(hs, user, path, path);
  });
  const list = async (query = '', dir = '/pub/app/') => {
    const response = await tenantFetch(hs, user, `${dir}${query}`, { anonymous: true });
    return { status: response.status, lines: (await response.text()).split('\n') };
  };
  const uri = (path: string) => `pubky://${user.z32}${path}`;

  it('lists everything under the directory in order, with no trailing newline', async () => {
    const response = await tenantFetch(hs, user, '/pub/app/');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text.endsWith('\n')).toBe(false);
    expect(text.split('\n')).toEqual(files.map(uri));
  });

  it('limit and cursor page through; the cursor is <key>/<path>, pubky:// optional', async () => {
    expect((await list('?limit=2')).lines).toEqual(files.slice(0, 2).map(uri));
    expect((await list(`?limit=2&cursor=${encodeURIComponent(uri(files[1] as string))}`)).lines).toEqual(
      files.slice(2, 4).map(uri),
    );
    expect((await list(`?cursor=${user.z32}/pub/app/c.txt`)).lines).toEqual(files.slice(4).map(uri));
    expect((await list(`?cursor=/pub/app/c.txt`)).lines).toEqual(['Invalid cursor']);
    expect((await list(`?cursor=`)).lines).toEqual(files.map(uri));
  });

  it('reverse, and shallow with directories once and a trailing slash', async () => {
    expect((await list('?reverse=true')).lines).toEqual([...files].reverse().map(uri));
    expect((await list('?shallow=true')).lines).toEqual(
      ['/pub/app/a.txt', '/pub/app/b/', '/pub/app/c.txt', '/pub/app/d/'].map(uri),
    );
    expect((await list(`?shallow&reverse=yes&limit=2`)).lines).toEqual(
      ['/pub/app/d/', '/pub/app/c.txt'].map(uri),
    );
    expect((await list(`?shallow=1&cursor=${encodeURIComponent(uri('/pub/app/b/'))}`)).lines).toEqual(
      ['/pub/app/c.txt', '/pub/app/d/'].map(uri),
    );
  });

  it('limit is capped at 1000, junk ignored, 0 empty; 404 for an empty directory; 400 for bad parameters', async () => {
    for (let i = 0; i < 1005; i++) await put(hs, user, `/pub/many/${String(i).padStart(4, '0')}`, '');
    expect((await list('?limit=5000', '/pub/many/')).lines).toHaveLength(1000);
    expect((await list('', '/pub/many/')).lines).toHaveLength(100);
    const empty = await tenantFetch(hs, user, '/pub/nothing/');
    expect([empty.status, await empty.text()]).toEqual([404, 'Directory Not Found']);
    expect(await (await tenantFetch(hs, user, '/pub/app/?shallow=maybe')).text()).toBe(
      'Invalid boolean parameter',
    );
    expect((await list('?reverse=TRUE')).lines[0]).toBe(uri(files[4] as string));
    expect((await list('?cursor=nonsense')).status).toBe(400);
    expect((await list('?limit=-1')).lines).toHaveLength(files.length);
    expect(await (await tenantFetch(hs, user, '/pub/app/?limit=0')).text()).toBe('');
  });
});

describe('folder storage', () => {
  it('users, files and events survive a restart', async () => {
    await hs.close();
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-hs-'));
    hs = await homeservers.start({ dataDir });
    user = await signup(hs);
    await put(hs, user, '/pub/keep.txt', 'kept');
    await put(hs, user, '/pub/gone.txt', 'gone');
    await tenantFetch(hs, user, '/pub/gone.txt', { method: 'DELETE' });
    await hs.close();
    hs = await homeservers.start({ dataDir });
    expect(await (await tenantFetch(hs, user, '/pub/keep.txt')).text()).toBe('kept');
    expect((await tenantFetch(hs, user, '/pub/gone.txt')).status).toBe(404);
    expect((await (await fetch(`${hs.url}/events/`)).text()).split('\n')).toHaveLength(4);
    expect(hs.state.users.has(user.z32)).toBe(true);
  });
});
