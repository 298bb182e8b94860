import { mkdtemp, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonInfo } from '../../src/daemon/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { runDaemonHere } from '../helpers/daemon.js';
import { put, signup, type TestUser } from '../helpers/homeserver.js';

let testnet: Testnet;
let user: TestUser;
let info: DaemonInfo & { url: string };
let dataDir: string;
let daemon: Awaited<ReturnType<typeof runDaemonHere>>;

beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
  user = await signup(testnet.homeserver);
  await put(testnet.homeserver, user, '/pub/app/a.txt', 'A');
  dataDir = await mkdtemp(join(tmpdir(), 'pubky-daemon-api-'));
  daemon = await runDaemonHere(dataDir, testnet.relay.url);
  info = daemon.info;
});
afterAll(async () => {
  await daemon.stop();
  await testnet.close();
});

/** A parsed JSON body (tests read into it freely). */
type Json = ReturnType<typeof JSON.parse>;
const body = async (response: Response): Promise<Json> => response.json();

const api = (path: string, init: RequestInit & { token?: string | null } = {}) => {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? info.token}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${info.url}/api/v1${path}`, { ...init, headers });
};

/** A request with a hand-set Host header (fetch does not allow one). */
function rawRequest(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: info.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('control API security', () => {
  it('refuses requests without the token or with a wrong one (401, JSON error)', async () => {
    const none = await api('/status', { token: null });
    expect(none.status).toBe(401);
    expect((await body(none)).error.code).toBe('UNAUTHORIZED');
    const wrong = await api('/status', { token: 'x'.repeat(64) });
    expect(wrong.status).toBe(401);
    const short = await api('/status', { token: 'abc' });
    expect(short.status).toBe(401);
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin (403); no CORS headers', async () => {
    const rebound = await rawRequest('/api/v1/status', {
      host: `evil.example:${info.port}`,
      authorization: `Bearer ${info.token}`,
    });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.code).toBe('FORBIDDEN_HOST');
    const foreign = await api('/status', { headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect((await body(foreign)).error.code).toBe('FORBIDDEN_ORIGIN');
    const same = await api('/status', { headers: { origin: `http://127.0.0.1:${info.port}` } });
    expect(same.status).toBe(200);
    expect(same.headers.get('access-control-allow-origin')).toBeNull();
    const localhost = await rawRequest('/api/v1/status', {
      host: `localhost:${info.port}`,
      authorization: `Bearer ${info.token}`,
    });
    expect(localhost.status).toBe(200);
  });

  it('daemon.json holds pid, port and token, readable by the user only', async () => {
    const { stat, readFile } = await import('node:fs/promises');
    const file = join(dataDir, 'daemon.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      pid: process.pid,
      port: info.port,
      token: info.token,
    });
  });
});

describe('control API routes', () => {
  it('the OpenAPI document lists every route, generated from the schemas', async () => {
    const doc = await body(await api('/openapi.json', { token: null }));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/v1/backup-location',
        '/api/v1/check-key',
        '/api/v1/login-link',
        '/api/v1/keys/{pubky}/versions',
        '/api/v1/keys/{pubky}/versions/restore',
        '/api/v1/keys/{pubky}/snapshots/{name}/check',
        '/api/v1/config',
        '/api/v1/daemon/stop',
        '/api/v1/events',
        '/api/v1/keys',
        '/api/v1/keys/{pubky}',
        '/api/v1/keys/{pubky}/activity',
        '/api/v1/keys/{pubky}/check',
        '/api/v1/keys/{pubky}/migrate',
        '/api/v1/keys/{pubky}/pause',
        '/api/v1/keys/{pubky}/restore',
        '/api/v1/keys/{pubky}/resume',
        '/api/v1/keys/{pubky}/snapshots',
        '/api/v1/keys/{pubky}/snapshots/{name}',
        '/api/v1/keys/{pubky}/sync',
        '/api/v1/keys/{pubky}/verify',
        '/api/v1/status',
        '/api/v1/sync',
      ].sort(),
    );
    expect(doc.components.schemas.KeySummary).toBeDefined();
  });

  it('keys: add (validated), list, one, sync, activity, pause/resume, snapshots (create, list, download), check, remove', async () => {
    const bad = await api('/keys', { method: 'POST', body: JSON.stringify({ pubky: 'not-a-key' }) });
    expect(bad.status).toBe(400);
    expect((await body(bad)).error.code).toBe('INVALID_CHARACTER');
    const missing = await api('/keys', { method: 'POST', body: JSON.stringify({}) });
    expect(missing.status).toBe(400);
    expect((await body(missing)).error.code).toBe('INVALID_REQUEST');

    const added = await api('/keys', {
      method: 'POST',
      body: JSON.stringify({ pubky: user.z32, homeserver: testnet.homeserver.url }),
    });
    expect(added.status).toBe(201);
    expect((await body(added)).key).toMatchObject({ pubky: user.z32, knownToHomeserver: true });
    const again = await api('/keys', { method: 'POST', body: JSON.stringify({ pubky: user.z32 }) });
    expect(again.status).toBe(409);

    const synced = await body(await api(`/keys/${user.z32}/sync`, { method: 'POST' }));
    expect(synced.results[0]).toMatchObject({ pubky: user.z32 });
    const keys = (await body(await api('/keys'))).keys;
    expect(keys).toEqual([
      expect.objectContaining({
        pubky: user.z32,
        files: 1,
        live: expect.objectContaining({ state: expect.stringMatching(/idle|syncing/) }),
      }),
    ]);
    const one = (await body(await api(`/keys/pk:${user.z32}`))).key;
    expect(one).toMatchObject({ pubky: user.z32, recentActivity: expect.any(Array) });
    expect((await api('/keys/8pinxxgqs41n4aididenw5apqp1urfmzdztr8jt4abrkdn435ewo')).status).toBe(404);
    const activity = (await body(await api(`/keys/${user.z32}/activity?last=2`))).activity;
    expect(activity.length).toBeLessThanOrEqual(2);

    expect((await api(`/keys/${user.z32}/pause`, { method: 'POST' })).status).toBe(200);
    expect((await body(await api(`/keys/${user.z32}`))).key.paused).toMatchObject({ reason: 'user' });
    expect((await api(`/keys/${user.z32}/resume`, { method: 'POST' })).status).toBe(200);
    expect((await api(`/keys/${user.z32}/resume`, { method: 'POST' })).status).toBe(409);

    const created = await api(`/keys/${user.z32}/snapshots`, { method: 'POST' });
    expect(created.status).toBe(201);
    const snapshots = (await body(await api(`/keys/${user.z32}/snapshots`))).snapshots;
    expect(snapshots).toHaveLength(1);
    const zip = await api(`/keys/${user.z32}/snapshots/${snapshots[0].name}`);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    expect(
      Buffer.from(await zip.arrayBuffer())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
    // Only snapshot names of this key: an escaped path to another file is no snapshot.
    expect((await api(`/keys/${user.z32}/snapshots/..%2F..%2F..%2Fdaemon.json`)).status).toBe(404);

    const check = await body(
      await api(`/keys/${user.z32}/check`, { method: 'POST', body: JSON.stringify({ readData: true }) }),
    );
    expect(check.report).toMatchObject({ pubky: user.z32, problems: [] });
    expect((await api('/sync', { method: 'POST' })).status).toBe(200);

    const removed = await api(`/keys/${user.z32}`, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect((await body(await api('/keys'))).keys[0]).toMatchObject({ active: false });
  });

  it('config: read, change with validation', async () => {
    expect((await body(await api('/config'))).config.syncIntervalSeconds).toBe(30);
    const changed = await api('/config', {
      method: 'PATCH',
      body: JSON.stringify({ field: 'syncIntervalSeconds', value: 60 }),
    });
    expect((await body(changed)).config.syncIntervalSeconds).toBe(60);
    const refused = await api('/config', {
      method: 'PATCH',
      body: JSON.stringify({ field: 'syncIntervalSeconds', value: 1 }),
    });
    expect(refused.status).toBe(400);
    expect((await body(refused)).error.code).toBe('CONFIG_INVALID');
  });

  it('versions: a file changed on the homeserver keeps its previous copy, which can be listed and restored', async () => {
    const other = await signup(testnet.homeserver);
    await put(testnet.homeserver, other, '/pub/app/v.txt', 'first');
    await api('/keys', {
      method: 'POST',
      body: JSON.stringify({ pubky: other.z32, homeserver: testnet.homeserver.url }),
    });
    await api(`/keys/${other.z32}/sync`, { method: 'POST' });
    await put(testnet.homeserver, other, '/pub/app/v.txt', 'second');
    await api(`/keys/${other.z32}/sync`, { method: 'POST' });
    const { versions } = await body(await api(`/keys/${other.z32}/versions?path=/pub/app/v.txt`));
    expect(versions).toEqual([expect.objectContaining({ path: '/pub/app/v.txt', size: 5 })]);
    const restored = await api(`/keys/${other.z32}/versions/restore`, {
      method: 'POST',
      body: JSON.stringify({ path: '/pub/app/v.txt', at: versions[0].versionedAt }),
    });
    expect(restored.status).toBe(200);
    expect(await body(restored)).toMatchObject({ changed: true });
    const file = join(dataDir, 'keys', other.z32, 'data/pub/app/v.txt');
    expect(await readFile(file, 'utf8')).toBe('first');
    const none = await api(`/keys/${other.z32}/versions/restore`, {
      method: 'POST',
      body: JSON.stringify({ path: '/pub/app/none' }),
    });
    expect(none.status).toBe(404);
    expect((await body(none)).error.code).toBe('VERSION_NOT_FOUND');
  });

  it('check-key gives the parser message; backup-location says where the backup is; a login link is single-use', async () => {
    const bad = await api('/check-key', { method: 'POST', body: JSON.stringify({ text: 'pk:abc' }) });
    expect(bad.status).toBe(400);
    expect((await body(bad)).error.message).toMatch(/52|length|characters/);
    const good = await body(
      await api('/check-key', { method: 'POST', body: JSON.stringify({ text: `pubky${user.z32}` }) }),
    );
    expect(good.pubky).toBe(user.z32);
    expect((await body(await api('/backup-location'))).location).toEqual({
      path: join(dataDir, 'keys'),
      moved: false,
    });
    const moveRelative = await api('/backup-location', {
      method: 'POST',
      body: JSON.stringify({ path: 'relative/dir' }),
    });
    expect(moveRelative.status).toBe(400);
    const { url } = await body(await api('/login-link', { method: 'POST' }));
    const first = await fetch(url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('set-cookie')).toMatch(/HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/i);
    const session = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect((await api('/status', { token: null, headers: { cookie: session } })).status).toBe(200);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(403);
  });

  it('an unknown route is a JSON 404', async () => {
    const response = await api('/nothing');
    expect(response.status).toBe(404);
    expect((await body(response)).error.code).toBe('NO_SUCH_ROUTE');
  });
});

describe('event stream', () => {
  it('SSE with rising ids; resuming with since (or Last-Event-ID) sends only what came after', async () => {
    for (const value of [31, 32, 33]) {
      await api('/config', {
        method: 'PATCH',
        body: JSON.stringify({ field: 'syncIntervalSeconds', value }),
      });
    }
    const read = async (query: string, headers: Record<string, string> = {}, count = 3) => {
      const controller = new AbortController();
      const response = await api(`/events${query}`, { headers, signal: controller.signal });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const { createParser } = await import('eventsource-parser');
      const events: Array<{ id: number; type: string }> = [];
      const parser = createParser({ onEvent: (m) => events.push(JSON.parse(m.data)) });
      const decoder = new TextDecoder();
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      while (events.length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
      controller.abort();
      return events;
    };
    const all = await read('?since=0', {}, 3);
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((a, b) => a - b));
    expect(all[0]?.type).toBe('Started');
    const after = await read(`?since=${all[1]?.id}`, {}, 1);
    expect(after[0]?.id).toBe(all[2]?.id);
    const byHeader = await read('', { 'last-event-id': String(all[1]?.id) }, 1);
    expect(byHeader[0]?.id).toBe(all[2]?.id);
  });
});
