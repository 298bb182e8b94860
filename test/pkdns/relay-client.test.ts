import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import {
  getFromRelay,
  PkarrPacketError,
  PkarrRelayError,
  pubkyRecord,
  putToRelay,
  relayPacketUrl,
  SignedPacket,
} from '../../src/pkdns/index.js';
import { type PkarrRelay, startPkarrRelay } from '../../src/testnet/pkarr-relay.js';
import { caught } from '../helpers/errors.js';

const HOMESERVER = Keypair.random().publicKey;

/** A hand-written HTTP server on 127.0.0.1, to play a broken or lying relay. */
async function fakeRelay(listener: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

describe('relay client against the testnet relay', () => {
  let relay: PkarrRelay;
  beforeAll(async () => {
    relay = await startPkarrRelay();
  });
  afterAll(() => relay.close());

  it('publishes and reads back a verified packet', async () => {
    const user = Keypair.random();
    const packet = SignedPacket.build(user, [pubkyRecord(HOMESERVER)]);
    await putToRelay(relay.url, packet);
    const read = await getFromRelay(relay.url, user.publicKey);
    expect(read?.sameAs(packet)).toBe(true);
  });

  it('reads undefined for a key the relay does not know', async () => {
    expect(await getFromRelay(relay.url, Keypair.random().publicKey)).toBeUndefined();
  });

  it('reports 409 when the relay has a more recent packet', async () => {
    const user = Keypair.random();
    await putToRelay(relay.url, SignedPacket.build(user, [], 2000n));
    const error = await caught(putToRelay(relay.url, SignedPacket.build(user, [], 1000n)), PkarrRelayError);
    expect(error.status).toBe(409);
    expect(error.message).toContain('more recent');
    expect(error.relayUrl).toBe(relay.url);
  });

  it('sends If-Match for compare-and-swap: 412 on a stale base, 204 on the current one', async () => {
    const user = Keypair.random();
    await putToRelay(relay.url, SignedPacket.build(user, [], 2000n));
    const error = await caught(
      putToRelay(relay.url, SignedPacket.build(user, [], 3000n), { cas: 1000n }),
      PkarrRelayError,
    );
    expect(error.status).toBe(412);
    await putToRelay(relay.url, SignedPacket.build(user, [], 3000n), { cas: 2000n });
    expect((await getFromRelay(relay.url, user.publicKey))?.timestampMicros).toBe(3000n);
  });

  it('keeps a relay base path (pkarr pushes a path segment)', () => {
    const key = HOMESERVER;
    expect(relayPacketUrl('http://127.0.0.1:1', key).href).toBe(`http://127.0.0.1:1/${key.z32}`);
    expect(relayPacketUrl('http://127.0.0.1:1/', key).href).toBe(`http://127.0.0.1:1/${key.z32}`);
    expect(relayPacketUrl('http://127.0.0.1:1/pkarr/', key).href).toBe(`http://127.0.0.1:1/pkarr/${key.z32}`);
  });
});

describe('relay client against broken relays', () => {
  it('a packet that does not verify throws PkarrPacketError', async () => {
    const { url, server } = await fakeRelay((_req, res) => res.end(Buffer.alloc(100, 7)));
    try {
      await expect(getFromRelay(url, HOMESERVER)).rejects.toThrow(PkarrPacketError);
    } finally {
      await stop(server);
    }
  });

  it('another key’s valid packet throws PkarrPacketError (BAD_SIGNATURE)', async () => {
    const payload = SignedPacket.build(Keypair.random(), []).toRelayPayload();
    const { url, server } = await fakeRelay((_req, res) => res.end(payload));
    try {
      await expect(getFromRelay(url, HOMESERVER)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    } finally {
      await stop(server);
    }
  });

  it('an oversized body is cut off', async () => {
    const { url, server } = await fakeRelay((_req, res) => res.end(Buffer.alloc(100_000)));
    try {
      const error = await getFromRelay(url, HOMESERVER).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PkarrPacketError);
      expect(error).toMatchObject({ code: 'TOO_LARGE' });
      expect((error as Error).message).toContain('more than 1072 bytes');
    } finally {
      await stop(server);
    }
  });

  it('a 5xx status becomes PkarrRelayError with the status and the plain reason', async () => {
    const { url, server } = await fakeRelay((_req, res) => {
      res.statusCode = 503;
      res.end('DHT unavailable\n');
    });
    try {
      const get = await caught(getFromRelay(url, HOMESERVER), PkarrRelayError);
      expect(get.status).toBe(503);
      expect(get.body).toBe('DHT unavailable');
      const put = await caught(putToRelay(url, SignedPacket.build(Keypair.random(), [])), PkarrRelayError);
      expect(put.status).toBe(503);
      expect(put.message).toContain('DHT unavailable');
    } finally {
      await stop(server);
    }
  });

  it('an unreachable relay has no status', async () => {
    const { url, server } = await fakeRelay(() => undefined);
    await stop(server);
    const error = await caught(getFromRelay(url, HOMESERVER), PkarrRelayError);
    expect(error.status).toBeUndefined();
    expect(error.message).toContain('unreachable');
  });

  it('an invalid relay URL is a PkarrRelayError', async () => {
    expect((await caught(getFromRelay('not a url', HOMESERVER), PkarrRelayError)).message).toContain(
      'not a valid relay URL',
    );
  });

  it('an abort rejects with the abort reason, not as a relay failure', async () => {
    const { url, server } = await fakeRelay(() => undefined); // never answers
    try {
      const controller = new AbortController();
      const pending = getFromRelay(url, HOMESERVER, { signal: controller.signal });
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await stop(server);
    }
  });
});
