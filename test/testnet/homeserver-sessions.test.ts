import { describe, expect, it } from 'vitest';
import { signAuthToken } from '../../src/homeserver/auth-token.js';
import { Keypair } from '../../src/identity/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { homeserverFixture, put, signup, tenantFetch } from '../helpers/homeserver.js';

// Sessions and users as pubky-homeserver v0.6.0 treats them (`routes/tenants/session.rs`,
// `layers/authz.rs`, `err_if_user_is_invalid.rs`).
let hs: Homeserver;
homeserverFixture((started) => {
  hs = started;
});

describe('signing out', () => {
  it('DELETE /session answers 200 with a removal cookie, also without a session and twice', async () => {
    const user = await signup(hs);
    for (let i = 0; i < 2; i++) {
      const out = await tenantFetch(hs, user, '/session', { method: 'DELETE' });
      expect(out.status).toBe(200);
      expect(out.headers.get('set-cookie')).toMatch(
        new RegExp(`^${user.z32}=; HttpOnly; Path=/; Max-Age=0; Expires=`),
      );
      const expires = /Expires=([^;]+)/.exec(out.headers.get('set-cookie') ?? '')?.[1] ?? '';
      expect(Date.parse(expires)).toBeLessThan(Date.now());
      expect(await out.text()).toBe('');
    }
    const anonymous = await tenantFetch(hs, user, '/session', { method: 'DELETE', anonymous: true });
    expect(anonymous.status).toBe(200);
    const write = await tenantFetch(hs, user, '/pub/x', { method: 'PUT', body: 'x' });
    expect([write.status, await write.text()]).toEqual([401, 'No session found for session secret']);
  });

  it('GET /session: 404 "Not Found" for an unknown user and for no session', async () => {
    const user = await signup(hs);
    const stranger = { ...user, z32: Keypair.random().publicKey.z32 };
    const unknown = await tenantFetch(hs, stranger, '/session');
    expect([unknown.status, await unknown.text()]).toEqual([404, 'Not Found']);
    const none = await tenantFetch(hs, user, '/session', { anonymous: true });
    expect([none.status, await none.text()]).toEqual([404, 'Not Found']);
  });
});

describe('write authorization', () => {
  it('401 reasons: no cookie, a cookie that is not a secret, another user’s secret', async () => {
    const alice = await signup(hs);
    const bob = await signup(hs);
    const attempt = (cookie?: string) =>
      tenantFetch(hs, alice, '/pub/a', {
        method: 'PUT',
        body: 'a',
        anonymous: true,
        headers: cookie ? { cookie } : {},
      });
    const none = await attempt();
    expect([none.status, await none.text()]).toEqual([401, 'No session secret found in cookies']);
    const short = await attempt(`${alice.z32}=short`);
    expect([short.status, await short.text()]).toEqual([401, 'No session secret found in cookies']);
    const bobs = await attempt(bob.cookie.replace(bob.z32, alice.z32));
    expect([bobs.status, await bobs.text()]).toEqual([
      401,
      'SessionInfo public key does not match pubky-host',
    ]);
  });

  it('capabilities are matched against the raw (percent-encoded) path', async () => {
    const user = await signup(hs, { capabilities: '/pub/café/:rw' });
    const encoded = await tenantFetch(hs, user, '/pub/caf%C3%A9/x', { method: 'PUT', body: 'x' });
    expect([encoded.status, await encoded.text()]).toEqual([
      403,
      'Session does not have write access to path',
    ]);
  });

  it('a disabled user can sign in, read and delete, but not write', async () => {
    const user = await signup(hs);
    await put(hs, user, '/pub/keep.txt', 'k');
    await put(hs, user, '/pub/drop.txt', 'd');
    hs.setUserDisabled(user.z32, true);
    const signin = await fetch(`${hs.url}/session`, { method: 'POST', body: signAuthToken(user.keypair) });
    expect(signin.status).toBe(200);
    const write = await tenantFetch(hs, user, '/pub/new.txt', { method: 'PUT', body: 'n' });
    expect([write.status, await write.text()]).toEqual([403, 'User is disabled']);
    expect((await tenantFetch(hs, user, '/pub/drop.txt', { method: 'DELETE' })).status).toBe(204);
    expect((await tenantFetch(hs, user, '/pub/keep.txt', { method: 'HEAD' })).status).toBe(200);
    hs.setUserDisabled(user.z32, false);
    expect((await tenantFetch(hs, user, '/pub/new.txt', { method: 'PUT', body: 'n' })).status).toBe(201);
  });
});
