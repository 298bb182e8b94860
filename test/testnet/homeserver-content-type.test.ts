import { describe, expect, it } from 'vitest';
import { detectContentType } from '../../src/testnet/homeserver/content-type.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { homeserverFixture, signup, type TestUser, tenantFetch } from '../helpers/homeserver.js';

const PNG = Uint8Array.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0,
  1, 8, 6, 0, 0, 0,
]);
const PDF = new TextEncoder().encode('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n');

// The stored Content-Type: magic bytes, then the path's extension, then application/octet-stream
// (pubky-homeserver v0.6.0 `file_metadata.rs`); never the request's header.
describe('detectContentType', () => {
  it('magic bytes win over the extension', async () => {
    expect(await detectContentType(PNG, '/pub/a/picture')).toBe('image/png');
    expect(await detectContentType(PNG, '/pub/a/notes.txt')).toBe('image/png');
    expect(await detectContentType(PDF, '/pub/a/doc')).toBe('application/pdf');
  });

  it('then the extension, case-insensitively, then octet-stream', async () => {
    const text = new TextEncoder().encode('{"a":1}');
    expect(await detectContentType(text, '/pub/a/data.json')).toBe('application/json');
    expect(await detectContentType(text, '/pub/a/README.TXT')).toBe('text/plain');
    expect(await detectContentType(text, '/pub/a.dir/noext')).toBe('application/octet-stream');
    expect(await detectContentType(new Uint8Array(0), '/pub/a/empty')).toBe('application/octet-stream');
  });
});

let hs: Homeserver;
let user: TestUser;
homeserverFixture(async (started) => {
  hs = started;
  user = await signup(hs);
});

describe('stored Content-Type', () => {
  const putWith = (path: string, body: Uint8Array | string, contentType: string) =>
    tenantFetch(hs, user, path, { method: 'PUT', body, headers: { 'content-type': contentType } });

  it('ignores the request header; GET and HEAD serve the detected type', async () => {
    expect((await putWith('/pub/img/avatar', PNG, 'text/html')).status).toBe(201);
    expect((await putWith('/pub/app/profile.json', '{"name":"x"}', 'text/html')).status).toBe(201);
    expect((await putWith('/pub/app/blob', 'plain bytes', 'image/jpeg')).status).toBe(201);
    const typeOf = async (path: string, method = 'GET') =>
      (await tenantFetch(hs, user, path, { method })).headers.get('content-type');
    expect(await typeOf('/pub/img/avatar')).toBe('image/png');
    expect(await typeOf('/pub/img/avatar', 'HEAD')).toBe('image/png');
    expect(await typeOf('/pub/app/profile.json')).toBe('application/json');
    expect(await typeOf('/pub/app/blob')).toBe('application/octet-stream');
  });
});
