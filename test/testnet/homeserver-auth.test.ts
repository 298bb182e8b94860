import { describe, expect, it } from 'vitest';
import { signAuthToken } from '../../src/homeserver/auth-token.js';
import { Keypair } from '../../src/identity/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { homeserverFixture, put, signup, tenantFetch } from '../helpers/homeserver.js';

let hs: Homeserver;
homeserverFixture((started) => {
  hs = started;
});

function postToken(path: string, body: Uint8Array) {
  return fetch(`${hs.url}${path}`, { method: 'POST', body });
}

describe('signup', () => {
  it('answers 200 with SessionInfo and a session cookie named after the user', async () => {
    const keypair = Keypair.random();
    const response = await postToken('/signup', signAuthToken(keypair));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    const info = new Uint8Array(await response.arrayBuffer());
    expect(info[0]).toBe(0); // version
    expect(Buffer.from(info.subarray(1, 33))).toEqual(Buffer.from(keypair.publicKey.bytes));
    const cookie = response.headers.get('set-cookie') ?? '';
    // The `cookie` crate's attribute order; the secret is 16 bytes in Crockford base32.
    expect(cookie).toMatch(
      new RegExp(`^${keypair.publicKey.z32}=[0-9A-Z]{26}; HttpOnly; Path=/; Max-Age=31536000; Expires=`),
    );
    expect(cookie).not.toContain('Secure'); // plain http on 127.0.0.1 must keep working
    expect(hs.state.users.has(keypair.publicKey.z32)).toBe(true);
  });

  it('409 when the user already exists', async () => {
    const user = await signup(hs);
    const again = await postToken('/signup', signAuthToken(user.keypair));
    expect(again.status).toBe(409);
    expect(await again.text()).toBe('User already exists');
  });

  it('400 with pubky-common’s message for a replayed, expired, future, or badly signed token', async () => {
    const keypair = Keypair.random();
    const token = signAuthToken(keypair);
    expect((await postToken('/signup', token)).status).toBe(200);
    const replay = await postToken('/session', token);
    expect([replay.status, await replay.text()]).toEqual([400, 'AuthToken already used']);

    const now = BigInt(Date.now()) * 1000n;
    const expired = await postToken('/session', signAuthToken(keypair, '/:rw', now - 60_000_000n));
    expect([expired.status, await expired.text()]).toEqual([
      400,
      'AuthToken has a timestamp that is more than 45 seconds in the past',
    ]);
    const future = await postToken('/session', signAuthToken(keypair, '/:rw', now + 60_000_000n));
    expect([future.status, await future.text()]).toEqual([
      400,
      'AuthToken has a timestamp that is more than 45 seconds in the future',
    ]);

    const forged = signAuthToken(keypair);
    forged[10] = (forged[10] ?? 0) ^ 1;
    const bad = await postToken('/session', forged);
    expect([bad.status, await bad.text()]).toEqual([400, 'Invalid Signature']);
  });

  it('a signature over bytes[64..] (without the quirk) is rejected', async () => {
    const keypair = Keypair.random();
    const token = signAuthToken(keypair);
    token.set(keypair.sign(token.subarray(64)), 0);
    expect((await postToken('/signup', token)).status).toBe(400);
  });

  it('token mode: 400 without or with a malformed token, 401 unknown or used, 200 with a fresh one', async () => {
    hs.setSignupMode('token');
    const signupWith = (query: string) => postToken(`/signup${query}`, signAuthToken(Keypair.random()));
    const missing = await signupWith('');
    expect([missing.status, await missing.text()]).toEqual([400, 'Token required']);
    const malformed = await signupWith('?signup_token=nope');
    expect([malformed.status, await malformed.text()]).toEqual([
      400,
      'Invalid signup token format: Invalid signup code id',
    ]);
    const unknown = await signupWith('?signup_token=AAAA-BBBB-CCCC');
    expect([unknown.status, await unknown.text()]).toEqual([401, 'Invalid token']);
    const token = hs.generateSignupToken();
    expect(token).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect((await signupWith(`?signup_token=${token}`)).status).toBe(200);
    const used = await signupWith(`?signup_token=${token}`);
    expect([used.status, await used.text()]).toEqual([401, 'Token already used']);
  });
});

describe('sessions', () => {
  it('POST /session signs in an existing user; 404 for an unknown one', async () => {
    const user = await signup(hs);
    const signin = await postToken('/session', signAuthToken(user.keypair));
    expect(signin.status).toBe(200);
    expect(signin.headers.get('set-cookie')).toMatch(new RegExp(`^${user.z32}=`));
    expect((await postToken('/session', signAuthToken(Keypair.random()))).status).toBe(404);
  });

  it('GET /session returns SessionInfo for the cookie; DELETE signs out', async () => {
    const user = await signup(hs);
    const session = await tenantFetch(hs, user, '/session');
    expect(session.status).toBe(200);
    expect(session.headers.get('vary')).toBe('cookie, pubky-host');
    expect(session.headers.get('cache-control')).toBe('private, must-revalidate');
    expect((await tenantFetch(hs, user, '/session', { anonymous: true })).status).toBe(404);
    expect((await tenantFetch(hs, user, '/session', { method: 'DELETE' })).status).toBe(200);
    expect((await tenantFetch(hs, user, '/session')).status).toBe(404);
    expect((await tenantFetch(hs, user, '/pub/x', { method: 'PUT', body: 'x' })).status).toBe(401);
  });
});

describe('authorization of writes', () => {
  it('401 without a session, 401 with another user’s session', async () => {
    const alice = await signup(hs);
    const bob = await signup(hs);
    expect(
      (await tenantFetch(hs, alice, '/pub/a', { method: 'PUT', body: 'a', anonymous: true })).status,
    ).toBe(401);
    const cross = await tenantFetch(hs, alice, '/pub/a', {
      method: 'PUT',
      body: 'a',
      anonymous: true,
      headers: { cookie: bob.cookie.replace(bob.z32, alice.z32) },
    });
    expect(cross.status).toBe(401);
  });

  it('403 outside the session’s capabilities and outside /pub/', async () => {
    const user = await signup(hs, { capabilities: '/pub/app/:rw' });
    await put(hs, user, '/pub/app/ok.txt', 'ok');
    expect((await tenantFetch(hs, user, '/pub/other/x', { method: 'PUT', body: 'x' })).status).toBe(403);
    const outside = await tenantFetch(hs, user, '/priv/x', { method: 'PUT', body: 'x' });
    expect([outside.status, await outside.text()]).toEqual([
      403,
      "Writing to directories other than '/pub/' is forbidden",
    ]);
  });

  it('403 for a disabled user', async () => {
    const user = await signup(hs);
    hs.setUserDisabled(user.z32, true);
    expect((await tenantFetch(hs, user, '/pub/x', { method: 'PUT', body: 'x' })).status).toBe(403);
  });
});
