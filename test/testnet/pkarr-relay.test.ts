import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pubky, Keypair as SdkKeypair, PublicKey as SdkPublicKey } from '@synonymdev/pubky';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keypair, PublicKey } from '../../src/identity/index.js';
import {
  getFromRelay,
  homeserverHttpsRecord,
  homeserverOf,
  type PkarrRecord,
  pubkyRecord,
  putToRelay,
  SignedPacket,
} from '../../src/pkdns/index.js';
import { type PkarrRelay, startPkarrRelay } from '../../src/testnet/pkarr-relay.js';

const PAYLOAD_TYPE = 'application/pkarr.org/relays#payload';

let relay: PkarrRelay;
beforeAll(async () => {
  relay = await startPkarrRelay();
});
afterAll(() => relay.close());

function urlOf(key: PublicKey | string): string {
  return `${relay.url}/${typeof key === 'string' ? key : key.z32}`;
}

function put(packet: SignedPacket, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(urlOf(packet.publicKey), { method: 'PUT', body: packet.toRelayPayload(), headers });
}

function putBytes(key: PublicKey | string, body: Uint8Array): Promise<Response> {
  return fetch(urlOf(key), { method: 'PUT', body });
}

describe('pkarr relay: PUT', () => {
  it('stores a valid packet: 204', async () => {
    const packet = SignedPacket.build(Keypair.random(), [pubkyRecord(Keypair.random().publicKey)]);
    const response = await put(packet);
    expect(response.status).toBe(204);
    expect(relay.packets.get(packet.publicKey.z32)?.sameAs(packet)).toBe(true);
  });

  it('refuses an older packet: 409; the same packet again is fine: 204', async () => {
    const user = Keypair.random();
    const current = SignedPacket.build(user, [], 2_000n);
    expect((await put(current)).status).toBe(204);
    const older = await put(SignedPacket.build(user, [], 1_000n));
    expect(older.status).toBe(409);
    expect(await older.text()).toMatch(/more recent/);
    expect((await put(current)).status).toBe(204);
    expect(relay.packets.get(user.publicKey.z32)?.timestampMicros).toBe(2_000n);
  });

  it('on equal timestamps keeps the larger DNS packet, like pkarr', async () => {
    const user = Keypair.random();
    const small = SignedPacket.build(user, [{ name: '.', ttl: 60, type: 'A', data: '1.1.1.1' }], 5_000n);
    const large = SignedPacket.build(user, [{ name: '.', ttl: 60, type: 'A', data: '1.1.1.2' }], 5_000n);
    expect((await put(large)).status).toBe(204);
    expect((await put(small)).status).toBe(409);
    const other = Keypair.random();
    const smallOther = SignedPacket.build(
      other,
      [{ name: '.', ttl: 60, type: 'A', data: '1.1.1.1' }],
      5_000n,
    );
    const largeOther = SignedPacket.build(
      other,
      [{ name: '.', ttl: 60, type: 'A', data: '1.1.1.2' }],
      5_000n,
    );
    expect((await put(smallOther)).status).toBe(204);
    expect((await put(largeOther)).status).toBe(204);
  });

  it('If-Match is compare-and-swap on the stored timestamp: 412 on mismatch', async () => {
    const user = Keypair.random();
    expect((await put(SignedPacket.build(user, [], 1_000n), { 'If-Match': '999' })).status).toBe(204); // nothing stored yet
    const stale = await put(SignedPacket.build(user, [], 2_000n), { 'If-Match': '999' });
    expect(stale.status).toBe(412);
    expect(await stale.text()).toMatch(/If-Match 999/);
    expect((await put(SignedPacket.build(user, [], 2_000n), { 'If-Match': '1000' })).status).toBe(204);
    expect((await put(SignedPacket.build(user, [], 3_000n), { 'If-Match': 'soon' })).status).toBe(400);
  });

  it('refuses a body over 1104 bytes: 413 (declared or streamed)', async () => {
    const key = Keypair.random().publicKey;
    const declared = await putBytes(key, new Uint8Array(1105));
    expect(declared.status).toBe(413);
    const chunk = new Uint8Array(600);
    const streamed = await fetch(urlOf(key), {
      method: 'PUT',
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(chunk);
          controller.enqueue(chunk);
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('refuses a bad key, signature, size or DNS with 400 and a plain reason', async () => {
    const user = Keypair.random();
    const payload = SignedPacket.build(user, [pubkyRecord(user.publicKey)]).toRelayPayload();
    const tampered = Uint8Array.from(payload);
    tampered.set([(payload.at(-1) ?? 0) ^ 1], payload.length - 1);
    const garbage = new Uint8Array([1, 2, 3]);
    const signable = Buffer.concat([Buffer.from('3:seqi5e1:v3:'), garbage]);
    const notDns = Buffer.concat([user.sign(signable), Buffer.from([0, 0, 0, 0, 0, 0, 0, 5]), garbage]);
    const cases: Array<[string, Promise<Response>, RegExp]> = [
      ['bad key', putBytes('not-a-key', payload), /Invalid public key/],
      ['signature', putBytes(user.publicKey, tampered), /not signed by/],
      ['other key', putBytes(Keypair.random().publicKey, payload), /not signed by/],
      ['too short', putBytes(user.publicKey, new Uint8Array(10)), /at least 72 bytes/],
      ['payload over 1072', putBytes(user.publicKey, new Uint8Array(1100)), /at most 1000/],
      ['not DNS', putBytes(user.publicKey, notDns), /DNS/],
    ];
    for (const [title, pending, reason] of cases) {
      const response = await pending;
      expect(response.status, title).toBe(400);
      expect(response.headers.get('content-type'), title).toMatch(/^text\/plain/);
      expect(await response.text(), title).toMatch(reason);
    }
    expect(relay.packets.has(user.publicKey.z32)).toBe(false);
  });
});

describe('pkarr relay: GET', () => {
  it('serves the relay payload with content type, cache control and last modified', async () => {
    const packet = SignedPacket.build(Keypair.random(), [pubkyRecord(Keypair.random().publicKey)]);
    await put(packet);
    const response = await fetch(urlOf(packet.publicKey));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PAYLOAD_TYPE);
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(response.headers.get('last-modified')).toBe(packet.lastModifiedHttpDate());
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from(packet.toRelayPayload()));
  });

  it('clamps max-age to the smallest TTL within 300..86400', async () => {
    const cases: Array<[PkarrRecord[], number]> = [
      [[{ name: '.', ttl: 60, type: 'A', data: '1.1.1.1' }], 300],
      [
        [
          { name: '.', ttl: 1000, type: 'A', data: '1.1.1.1' },
          { name: 'x', ttl: 700, type: 'TXT', data: [] },
        ],
        700,
      ],
      [[{ name: '.', ttl: 999_999, type: 'A', data: '1.1.1.1' }], 86400],
      [[], 300],
    ];
    for (const [records, maxAge] of cases) {
      const packet = SignedPacket.build(Keypair.random(), records);
      await put(packet);
      const response = await fetch(urlOf(packet.publicKey));
      expect(response.headers.get('cache-control')).toBe(`public, max-age=${maxAge}`);
    }
  });

  it('answers 304 when If-Modified-Since is at or after the packet time', async () => {
    const packet = SignedPacket.build(Keypair.random(), [], 1_700_000_000_500_000n);
    await put(packet);
    const at = await fetch(urlOf(packet.publicKey), {
      headers: { 'If-Modified-Since': 'Tue, 14 Nov 2023 22:13:20 GMT' },
    });
    expect(at.status).toBe(304);
    expect(at.headers.get('last-modified')).toBe('Tue, 14 Nov 2023 22:13:20 GMT');
    const after = await fetch(urlOf(packet.publicKey), {
      headers: { 'If-Modified-Since': 'Wed, 15 Nov 2023 00:00:00 GMT' },
    });
    expect(after.status).toBe(304);
    const before = await fetch(urlOf(packet.publicKey), {
      headers: { 'If-Modified-Since': 'Tue, 14 Nov 2023 22:13:19 GMT' },
    });
    expect(before.status).toBe(200);
    expect((await before.arrayBuffer()).byteLength).toBe(packet.toRelayPayload().length);
    const nonsense = await fetch(urlOf(packet.publicKey), { headers: { 'If-Modified-Since': 'yesterday' } });
    expect(nonsense.status).toBe(200);
  });

  it('404 for an unknown key, 400 for an invalid one', async () => {
    const unknown = await fetch(urlOf(Keypair.random().publicKey));
    expect(unknown.status).toBe(404);
    const invalid = await fetch(urlOf('abc'));
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toMatch(/Invalid public key/);
  });

  it('HEAD has the headers without a body', async () => {
    const packet = SignedPacket.build(Keypair.random(), []);
    await put(packet);
    const response = await fetch(urlOf(packet.publicKey), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PAYLOAD_TYPE);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves packets seeded straight into `packets`', async () => {
    const packet = SignedPacket.build(Keypair.random(), [homeserverHttpsRecord(6286)]);
    relay.packets.set(packet.publicKey.z32, packet);
    expect((await getFromRelay(relay.url, packet.publicKey))?.sameAs(packet)).toBe(true);
  });

  it('GET / describes the relay; other paths and methods are refused', async () => {
    const index = await fetch(`${relay.url}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toMatch(/Pkarr Relay/);
    expect((await fetch(`${urlOf(Keypair.random().publicKey)}/extra`)).status).toBe(404);
    expect((await fetch(urlOf(Keypair.random().publicKey), { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(`${relay.url}/`, { method: 'POST' })).status).toBe(405);
  });
});

describe('pkarr relay: CORS (the WASM SDK uses fetch)', () => {
  it('mirrors the Origin and allows credentials', async () => {
    const response = await fetch(urlOf(Keypair.random().publicKey), {
      headers: { Origin: 'http://app.localhost:5173' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://app.localhost:5173');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('vary')).toMatch(/Origin/);
    expect(response.headers.get('access-control-expose-headers')).toMatch(/Last-Modified/);
  });

  it('allows any origin without credentials when none is sent', async () => {
    const response = await fetch(`${relay.url}/`);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('answers a preflight with 204 and the requested method and headers', async () => {
    const response = await fetch(urlOf(Keypair.random().publicKey), {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://app.localhost',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'if-match, content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://app.localhost');
    expect(response.headers.get('access-control-allow-methods')).toBe('PUT');
    expect(response.headers.get('access-control-allow-headers')).toBe('if-match, content-type');
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });
});

describe('pkarr relay: lifecycle', () => {
  it('close() returns promptly although a client keeps its connection alive', async () => {
    const own = await startPkarrRelay();
    const response = await fetch(`${own.url}/`, { headers: { Connection: 'keep-alive' } });
    await response.text();
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('listens on loopback only: localhost works, other hosts are refused', async () => {
    const local = await startPkarrRelay({ host: 'localhost' });
    try {
      expect(local.url).toBe(`http://localhost:${local.port}`);
      expect((await fetch(`${local.url}/`)).status).toBe(200);
    } finally {
      await local.close();
    }
    await expect(startPkarrRelay({ host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });

  it('with a dataDir, packets survive a restart (damaged files are skipped)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pkarr-relay-'));
    try {
      const first = await startPkarrRelay({ dataDir });
      const packet = SignedPacket.build(Keypair.random(), [pubkyRecord(Keypair.random().publicKey)]);
      await putToRelay(first.url, packet);
      await first.close();
      expect(await readdir(dataDir)).toEqual([`${packet.publicKey.z32}.pkarr`]);
      await writeFile(join(dataDir, `${Keypair.random().publicKey.z32}.pkarr`), 'damaged');

      const second = await startPkarrRelay({ dataDir });
      try {
        expect(second.packets.size).toBe(1);
        expect((await getFromRelay(second.url, packet.publicKey))?.sameAs(packet)).toBe(true);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('interop with the official SDK (@synonymdev/pubky 0.6.0)', () => {
  /** A fresh SDK facade on our relay: fresh, so no SDK-side cache hides what the relay serves. */
  function sdk(): Pubky {
    return Pubky.withClient(new Client({ pkarr: { relays: [relay.url] } }));
  }

  it('we read the `_pubky` record the SDK publishes', async () => {
    const user = SdkKeypair.random();
    const homeserver = SdkKeypair.random().publicKey;
    // wasm-bindgen moves a PublicKey passed by value: read its text before handing it over.
    const homeserverZ32 = homeserver.z32();
    await sdk().signer(user).pkdns.publishHomeserverForce(homeserver);

    const packet = await getFromRelay(relay.url, PublicKey.parse(user.publicKey.z32()));
    expect(packet).toBeDefined();
    expect(homeserverOf(packet as SignedPacket)?.z32).toBe(homeserverZ32);
    expect(packet?.records).toEqual([pubkyRecord(PublicKey.parse(homeserverZ32))]);
  });

  it('the SDK resolves a packet we build (several records, compressed names)', async () => {
    const user = Keypair.random();
    const homeserver = Keypair.random().publicKey;
    const packet = SignedPacket.build(user, [
      { name: '.', ttl: 3600, type: 'A', data: '127.0.0.1' },
      pubkyRecord(homeserver),
      homeserverHttpsRecord(6286),
      { name: 'notes', ttl: 600, type: 'TXT', data: ['hello', 'wörld'] },
    ]);
    await putToRelay(relay.url, packet);

    const viaFacade = await sdk().getHomeserverOf(SdkPublicKey.from(user.publicKey.z32));
    expect(viaFacade?.z32()).toBe(homeserver.z32);
    const signer = sdk().signer(SdkKeypair.fromSecret(user.secretKey()));
    expect((await signer.pkdns.getHomeserver())?.z32()).toBe(homeserver.z32);
  });

  it('the SDK republishes over our packet (CAS = our timestamp) and keeps our other records', async () => {
    const user = Keypair.random();
    const oldHomeserver = Keypair.random().publicKey;
    const newHomeserver = Keypair.random().publicKey;
    const txt: PkarrRecord = { name: 'notes', ttl: 600, type: 'TXT', data: ['keep me'] };
    const ours = SignedPacket.build(user, [pubkyRecord(oldHomeserver), txt]);
    await putToRelay(relay.url, ours);

    const signer = sdk().signer(SdkKeypair.fromSecret(user.secretKey()));
    await signer.pkdns.publishHomeserverForce(SdkPublicKey.from(newHomeserver.z32));

    const theirs = await getFromRelay(relay.url, user.publicKey);
    expect(theirs?.moreRecentThan(ours)).toBe(true);
    expect(homeserverOf(theirs as SignedPacket)?.z32).toBe(newHomeserver.z32);
    expect(theirs?.recordsNamed('notes')).toEqual([txt]);
  });

  it('one SDK facade publishes twice and resolves again (its If-Modified-Since revalidation)', async () => {
    const pubky = sdk();
    const user = SdkKeypair.random();
    const userKey = PublicKey.parse(user.publicKey.z32());
    const signer = pubky.signer(user);
    const [first, second] = [Keypair.random().publicKey, Keypair.random().publicKey];
    await signer.pkdns.publishHomeserverForce(SdkPublicKey.from(first.z32));
    expect((await pubky.getHomeserverOf(SdkPublicKey.from(userKey.z32)))?.z32()).toBe(first.z32);
    await signer.pkdns.publishHomeserverForce(SdkPublicKey.from(second.z32));
    expect(homeserverOf((await getFromRelay(relay.url, userKey)) as SignedPacket)?.z32).toBe(second.z32);
    expect((await signer.pkdns.getHomeserver())?.z32()).toBe(second.z32);
  });

  it('the SDK finds no homeserver for an unknown key (404)', async () => {
    expect(await sdk().getHomeserverOf(SdkKeypair.random().publicKey)).toBeUndefined();
  });
});
