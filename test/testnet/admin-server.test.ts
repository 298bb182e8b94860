import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signAuthToken } from '../../src/homeserver/auth-token.js';
import { Keypair } from '../../src/identity/index.js';
import type { AdminServer } from '../../src/testnet/admin/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { adminFetch } from '../helpers/admin.js';
import { put, signup, tenantFetch } from '../helpers/homeserver.js';

// The admin server of pubky-homeserver v0.6.0 (`admin_server/app.rs`, `admin_server/routes/*`).
let testnet: Testnet;
let admin: AdminServer;
let hs: Homeserver;
beforeEach(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
  admin = testnet.admin;
  hs = testnet.homeserver;
});
afterEach(() => testnet.close());

const text = async (response: Promise<Response>) => {
  const r = await response;
  return `${r.status} ${await r.text()}`;
};

describe('password', () => {
  it('GET / is public; other routes want X-Admin-Password', async () => {
    expect(await text(fetch(`${admin.url}/`))).toBe('200 Homeserver - Admin Endpoint');
    expect(await text(fetch(`${admin.url}/info`))).toBe('401 Missing admin password');
    const wrong = fetch(`${admin.url}/info`, { headers: { 'x-admin-password': 'nope' } });
    expect(await text(wrong)).toBe('401 Invalid admin password');
    expect((await adminFetch(admin, '/info')).status).toBe(200);
  });

  it('unknown routes are 404; a wrong method is 405 after the password check', async () => {
    expect((await adminFetch(admin, '/nothing')).status).toBe(404);
    expect((await fetch(`${admin.url}/info`, { method: 'POST' })).status).toBe(401);
    expect((await adminFetch(admin, '/info', { method: 'POST' })).status).toBe(405);
  });

  it('WebDAV (/dav) asks for Basic auth and is not emulated', async () => {
    const anonymous = await fetch(`${admin.url}/dav/`);
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([401, 'Basic']);
    const basic = `Basic ${Buffer.from(`admin:${admin.password}`).toString('base64')}`;
    expect((await fetch(`${admin.url}/dav/`, { headers: { authorization: basic } })).status).toBe(501);
  });
});

describe('signup tokens', () => {
  it('generate_signup_token answers XXXX-XXXX-XXXX tokens that sign up one user each', async () => {
    hs.setSignupMode('token');
    const token = await (await adminFetch(admin, '/generate_signup_token')).text();
    expect(token).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    await signup(hs, { token });
    await expect(signup(hs, { token })).rejects.toThrow('401 Token already used');
    const info = await (await adminFetch(admin, '/info')).json();
    expect(info).toMatchObject({ num_signup_codes: 1, num_unused_signup_codes: 0, num_users: 1 });
  });
});

describe('GET /info', () => {
  it('counts users, disabled users, disk use and tokens; names the key, domain and version', async () => {
    const alice = await signup(hs);
    await signup(hs);
    await put(hs, alice, '/pub/big.bin', new Uint8Array(3 * 1024 * 1024));
    hs.setUserDisabled(alice.z32, true);
    await adminFetch(admin, '/generate_signup_token');
    const response = await adminFetch(admin, '/info');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({
      num_users: 2,
      num_disabled_users: 1,
      total_disk_used_mb: 3,
      num_signup_codes: 1,
      num_unused_signup_codes: 1,
      public_key: '8pinxxgqs41n4aididenw5apqp1urfmzdztr8jt4abrkdn435ewo',
      pkarr_pubky_address: null,
      pkarr_icann_domain: `localhost:${hs.port}`,
      version: '0.6.0',
    });
  });
});

describe('DELETE /webdav/{user}/pub/…', () => {
  it('deletes one file with a DEL event: 204, then 404; 400 for a bad key or a path outside /pub/', async () => {
    const user = await signup(hs);
    await put(hs, user, '/pub/naïve café.txt', 'x');
    const target = `/webdav/${user.z32}/pub/na%C3%AFve%20caf%C3%A9.txt`;
    expect((await adminFetch(admin, target, { method: 'DELETE' })).status).toBe(204);
    expect((await tenantFetch(hs, user, '/pub/na%C3%AFve%20caf%C3%A9.txt')).status).toBe(404);
    expect(hs.state.events.at(-1)).toMatchObject({ type: 'DEL', path: '/pub/naïve café.txt' });
    expect(await text(adminFetch(admin, target, { method: 'DELETE' }))).toBe('404 Not Found');
    expect((await adminFetch(admin, '/webdav/1234/pub/x', { method: 'DELETE' })).status).toBe(400);
    expect((await adminFetch(admin, `/webdav/${user.z32}/priv/x`, { method: 'DELETE' })).status).toBe(400);
  });
});

describe('POST /users/{pubkey}/disable|enable', () => {
  it('a disabled user can sign in and delete, not write; enable undoes it', async () => {
    const user = await signup(hs);
    await put(hs, user, '/pub/a.txt', 'a');
    expect(await text(adminFetch(admin, `/users/${user.z32}/disable`, { method: 'POST' }))).toBe('200 Ok');
    expect(hs.state.users.get(user.z32)?.disabled).toBe(true);
    const signin = await fetch(`${hs.url}/session`, { method: 'POST', body: signAuthToken(user.keypair) });
    expect(signin.status).toBe(200);
    expect((await tenantFetch(hs, user, '/pub/b.txt', { method: 'PUT', body: 'b' })).status).toBe(403);
    expect((await tenantFetch(hs, user, '/pub/a.txt', { method: 'DELETE' })).status).toBe(204);
    expect(await text(adminFetch(admin, `/users/${user.z32}/enable`, { method: 'POST' }))).toBe('200 Ok');
    expect((await tenantFetch(hs, user, '/pub/b.txt', { method: 'PUT', body: 'b' })).status).toBe(201);
  });

  it('404 "User not found" for an unknown key, 400 for a malformed or pubky-prefixed one', async () => {
    const stranger = Keypair.random().publicKey.z32;
    expect(await text(adminFetch(admin, `/users/${stranger}/disable`, { method: 'POST' }))).toBe(
      '404 User not found',
    );
    expect((await adminFetch(admin, '/users/nonsense/disable', { method: 'POST' })).status).toBe(400);
    expect((await adminFetch(admin, `/users/pubky${stranger}/enable`, { method: 'POST' })).status).toBe(400);
  });
});
