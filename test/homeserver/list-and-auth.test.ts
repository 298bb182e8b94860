import { describe, expect, it } from 'vitest';
import { type HomeserverClient, HomeserverError, type Session } from '../../src/homeserver/index.js';
import { Keypair } from '../../src/identity/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { caught } from '../helpers/errors.js';
import { collect, homeserverClientFixture } from '../helpers/homeserver-client.js';

let hs: Homeserver;
let client: HomeserverClient;
let user: Session;
const FILES = 1234;
const bytes = (value: string) => new TextEncoder().encode(value);
const name = (i: number) => `/pub/many/${String(i).padStart(4, '0')}.txt`;

homeserverClientFixture({ once: true }, async (fixture) => {
  ({ hs, client } = fixture);
  user = await client.signup(Keypair.random());
  for (let i = 0; i < FILES; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, FILES - i) }, (_, j) =>
        client.put(user, name(i + j), bytes(`${i + j}`)),
      ),
    );
  }
  await client.put(user, '/pub/many/sub/deep/x', bytes('x'));
  await client.put(user, '/pub/many/sub/y', bytes('y'));
});

describe('list', () => {
  it('pages through more than 1000 entries (default page size 1000)', async () => {
    let requests = 0;
    const original = hs.faults.take.bind(hs.faults);
    hs.faults.take = (facts) => {
      if (facts.route === 'list') requests++;
      return original(facts);
    };
    try {
      const paths = await collect(client.list(user.user, '/pub/many/'));
      expect(paths).toHaveLength(FILES + 2);
      expect(paths.slice(0, 2)).toEqual([name(0), name(1)]);
      expect(paths.slice(-2)).toEqual(['/pub/many/sub/deep/x', '/pub/many/sub/y']);
      expect(new Set(paths).size).toBe(paths.length);
      expect(requests).toBe(2);
    } finally {
      hs.faults.take = original;
    }
  });

  it('small pages give the same result', async () => {
    const all = await collect(client.list(user.user, '/pub/many/'));
    expect(await collect(client.list(user.user, '/pub/many/', { limit: 100 }))).toEqual(all);
    expect(await collect(client.list(user.user, '/pub/many/', { limit: 617 }))).toEqual(all);
  });

  it('shallow: immediate children, sub-directories once with a trailing slash', async () => {
    const paths = await collect(client.list(user.user, '/pub/', { shallow: true }));
    expect(paths).toEqual(['/pub/many/']);
    const many = await collect(client.list(user.user, '/pub/many/', { shallow: true, limit: 500 }));
    expect(many).toHaveLength(FILES + 1);
    expect(many.at(-1)).toBe('/pub/many/sub/');
    expect(await collect(client.list(user.user, '/pub/many/sub/', { shallow: true }))).toEqual([
      '/pub/many/sub/deep/',
      '/pub/many/sub/y',
    ]);
  });

  it('a directory with nothing in it yields nothing; errors still throw', async () => {
    expect(await collect(client.list(user.user, '/pub/nothing-here/'))).toEqual([]);
    expect(await collect(client.list(Keypair.random().publicKey.z32, '/pub/'))).toEqual([]);
    hs.faults.add({ route: 'list', times: 1, fault: { kind: 'status', status: 500 } });
    expect((await caught(() => collect(client.list(user.user, '/pub/many/')), HomeserverError)).kind).toBe(
      'server',
    );
    await expect(collect(client.list(user.user, '/pub/many'))).rejects.toThrow(RangeError);
  });
});

describe('auth and writes', () => {
  it('signup gives a session cookie named after the user; a second signup is a 409 client error', async () => {
    const keypair = Keypair.random();
    const session = await client.signup(keypair);
    expect(session.user).toBe(keypair.publicKey.z32);
    expect(session.cookie).toMatch(new RegExp(`^${session.user}=[^;\\s]+$`));
    const again = await caught(() => client.signup(keypair), HomeserverError);
    expect(again).toMatchObject({ kind: 'client', status: 409, body: 'User already exists' });
  });

  it('signin returns a fresh working session; an unknown user is not-found', async () => {
    const keypair = Keypair.random();
    const first = await client.signup(keypair);
    const second = await client.signin(keypair);
    expect(second.user).toBe(first.user);
    expect(second.cookie).not.toBe(first.cookie);
    await client.put(second, '/pub/signed-in', bytes('ok'));
    expect((await client.head(second.user, '/pub/signed-in')).size).toBe(2);
    expect((await caught(() => client.signin(Keypair.random()), HomeserverError)).kind).toBe('not-found');
  });

  it('signup with a token when the homeserver requires one', async () => {
    hs.setSignupMode('token');
    try {
      expect(await caught(() => client.signup(Keypair.random()), HomeserverError)).toMatchObject({
        kind: 'client',
        status: 400,
      });
      const session = await client.signup(Keypair.random(), { signupToken: hs.generateSignupToken() });
      expect(session.cookie.startsWith(`${session.user}=`)).toBe(true);
    } finally {
      hs.setSignupMode('open');
    }
  });

  it('put (bytes or a stream) then delete; deleting again is not-found', async () => {
    async function* chunks() {
      for (let i = 0; i < 10; i++) yield new Uint8Array(100_000).fill(i);
    }
    await client.put(user, '/pub/w/streamed.bin', chunks(), { contentType: 'application/x-s' });
    await client.put(user, '/pub/w/sized.bin', chunks(), { contentLength: 1_000_000 });
    for (const path of ['/pub/w/streamed.bin', '/pub/w/sized.bin']) {
      const meta = await client.head(user.user, path);
      expect(meta.size).toBe(1_000_000);
    }
    expect((await client.head(user.user, '/pub/w/streamed.bin')).contentType).toBe(
      'application/octet-stream',
    );
    await client.delete(user, '/pub/w/streamed.bin');
    expect((await caught(() => client.head(user.user, '/pub/w/streamed.bin'), HomeserverError)).kind).toBe(
      'not-found',
    );
    expect((await caught(() => client.delete(user, '/pub/w/streamed.bin'), HomeserverError)).kind).toBe(
      'not-found',
    );
  });

  it('writes without a valid session, or outside /pub/, are auth errors', async () => {
    const forged: Session = { user: user.user, cookie: `${user.user}=forged` };
    expect(await caught(() => client.put(forged, '/pub/x', bytes('x')), HomeserverError)).toMatchObject({
      kind: 'auth',
      status: 401,
    });
    expect(await caught(() => client.put(user, '/priv/x', bytes('x')), HomeserverError)).toMatchObject({
      kind: 'auth',
      status: 403,
    });
  });
});
