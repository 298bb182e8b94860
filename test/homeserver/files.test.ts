import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HomeserverClient, HomeserverError, type Session } from '../../src/homeserver/index.js';
import { Keypair } from '../../src/identity/index.js';
import { Homeserver } from '../../src/testnet/homeserver/index.js';
import { caught } from '../helpers/errors.js';
import { blake3Base64 } from '../helpers/homeserver.js';
import { homeserverClientFixture } from '../helpers/homeserver-client.js';

let hs: Homeserver;
let client: HomeserverClient;
let user: Session;
const BIG = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 7) % 251);

homeserverClientFixture({}, async (fixture) => {
  ({ hs, client } = fixture);
  user = await client.signup(Keypair.random());
  await client.put(user, '/pub/big.bin', BIG, { contentType: 'application/x-test' });
});

async function readAll(body: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; chunks: number }> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

describe('get', () => {
  it('streams a multi-MB file in chunks with an unquoted ETag = base64 BLAKE3', async () => {
    const response = await client.get(user.user, '/pub/big.bin');
    // The homeserver detects the type (no magic bytes, `.bin`), ignoring the request's header.
    expect(response).toMatchObject({
      status: 200,
      size: BIG.length,
      contentType: 'application/octet-stream',
    });
    expect(response.etag).toBe(await blake3Base64(BIG));
    expect(response.lastModified).toBeInstanceOf(Date);
    const { bytes, chunks } = await readAll(response.body);
    expect(chunks).toBeGreaterThan(1);
    expect(bytes.equals(Buffer.from(BIG))).toBe(true);
  });

  it('304 with ifNoneMatch (quoted or not), empty body; 200 when the ETag differs', async () => {
    const etag = (await client.head(user.user, '/pub/big.bin')).etag as string;
    for (const tag of [etag, `"${etag}"`]) {
      const response = await client.get(user.user, '/pub/big.bin', { ifNoneMatch: tag });
      expect(response.status).toBe(304);
      expect(response.etag).toBe(etag);
      expect((await readAll(response.body)).bytes.length).toBe(0);
    }
    const changed = await client.get(user.user, '/pub/big.bin', { ifNoneMatch: 'other' });
    expect(changed.status).toBe(200);
    await changed.body.cancel();
  });

  it('head: meta without a body', async () => {
    expect(await client.head(user.user, '/pub/big.bin')).toMatchObject({
      etag: await blake3Base64(BIG),
      size: BIG.length,
      contentType: 'application/octet-stream',
    });
    expect((await caught(() => client.head(user.user, '/pub/none'), HomeserverError)).kind).toBe('not-found');
  });

  it('maps each fault to its error kind', async () => {
    const get = () => client.get(user.user, '/pub/big.bin');
    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'status', status: 503, body: 'maintenance' } });
    const server = await caught(get, HomeserverError);
    expect(server).toMatchObject({ kind: 'server', status: 503, body: 'maintenance' });
    expect(server.message).toBe(`Homeserver ${hs.url} answered 503 for GET /pub/big.bin: maintenance`);

    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'rate-limit', retryAfterSeconds: 7 } });
    expect(await caught(get, HomeserverError)).toMatchObject({
      kind: 'rate-limited',
      status: 429,
      retryAfterMs: 7000,
    });

    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'reset' } });
    expect((await caught(get, HomeserverError)).kind).toBe('network');

    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'drop' } });
    expect(await caught(get, HomeserverError)).toMatchObject({ kind: 'not-found', status: 404 });

    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'truncate', afterBytes: 100_000 } });
    const truncated = await get();
    expect(truncated.size).toBe(BIG.length);
    expect((await caught(() => readAll(truncated.body), HomeserverError)).kind).toBe('network');

    const fine = await get();
    expect((await readAll(fine.body)).bytes.length).toBe(BIG.length);
  });

  it('a missing file is not-found; an unknown user too', async () => {
    expect((await caught(() => client.get(user.user, '/pub/nothing'), HomeserverError)).kind).toBe(
      'not-found',
    );
    expect(
      (await caught(() => client.get(Keypair.random().publicKey.z32, '/pub/big.bin'), HomeserverError)).kind,
    ).toBe('not-found');
  });

  it('timeouts and aborts', async () => {
    const slow = new HomeserverClient({ baseUrl: hs.url, requestTimeoutMs: 200 });
    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'latency', ms: 1000 } });
    const timedOut = await caught(() => slow.get(user.user, '/pub/big.bin'), HomeserverError);
    expect(timedOut.kind).toBe('network');
    expect(timedOut.message).toContain('within 0.2 s');

    const controller = new AbortController();
    hs.faults.add({ route: 'read', times: 1, fault: { kind: 'latency', ms: 1000 } });
    setTimeout(() => controller.abort(), 50);
    expect(
      (
        await caught(
          () => client.get(user.user, '/pub/big.bin', { signal: controller.signal }),
          HomeserverError,
        )
      ).kind,
    ).toBe('aborted');

    const during = new AbortController();
    const response = await client.get(user.user, '/pub/big.bin', { signal: during.signal });
    const failed = caught(async () => {
      for await (const _ of response.body) during.abort();
    }, HomeserverError);
    expect((await failed).kind).toBe('aborted');
  });

  it('connection refused is a network error', async () => {
    const closed = await Homeserver.start();
    const url = closed.url;
    await closed.close();
    const error = await caught(
      () => new HomeserverClient({ baseUrl: url }).get(user.user, '/pub/x'),
      HomeserverError,
    );
    expect(error.kind).toBe('network');
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('idle timeout on bodies', () => {
  it('a body that stops sending bytes fails after requestTimeoutMs without bytes', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write(Buffer.alloc(10)); // then silence
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const slow = new HomeserverClient({ baseUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 300 });
      const response = await slow.get(user.user, '/pub/stall');
      const error = await caught(() => readAll(response.body), HomeserverError);
      expect(error.kind).toBe('network');
      expect(error.message).toContain('sent no data for 0.3 s');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a slow consumer is not an idle server', async () => {
    const slow = new HomeserverClient({ baseUrl: hs.url, requestTimeoutMs: 300 });
    await client.put(user, '/pub/small', new Uint8Array(10));
    const response = await slow.get(user.user, '/pub/small');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await readAll(response.body)).bytes.length).toBe(10);
  });
});

describe('paths', () => {
  it('unicode, spaces and literal percent signs round trip through put, get, list and the feed', async () => {
    const paths = [
      '/pub/files/naïve café.txt',
      '/pub/files/%2e%2e',
      '/pub/files/a%20b c',
      '/pub/files/😀 #1?.txt',
    ];
    for (const [i, path] of paths.entries())
      await client.put(user, path, new TextEncoder().encode(`file ${i}`));
    for (const [i, path] of paths.entries()) {
      const response = await client.get(user.user, path);
      expect((await readAll(response.body)).bytes.toString()).toBe(`file ${i}`);
    }
    const listed: string[] = [];
    for await (const path of client.list(user.user, '/pub/files/')) listed.push(path);
    expect(listed.sort()).toEqual([...paths].sort());
    const feed = await client.eventsPage('1', 100);
    expect(feed.events.map((event) => event.path).slice(-paths.length)).toEqual(paths);
  });
});
