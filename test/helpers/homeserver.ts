import { createBLAKE3 } from 'hash-wasm';
import { afterEach, beforeEach } from 'vitest';
import { signAuthToken } from '../../src/homeserver/auth-token.js';
import { Keypair } from '../../src/identity/index.js';
import { Homeserver, type HomeserverOptions } from '../../src/testnet/homeserver/index.js';

export interface TestUser {
  keypair: Keypair;
  z32: string;
  cookie: string;
}

/** Starts a homeserver emulator on a free port; close it in afterEach/afterAll. */
export function startHomeserver(options: HomeserverOptions = {}): Promise<Homeserver> {
  return Homeserver.start(options);
}

/**
 * A fresh homeserver emulator before each test, handed to `ready` (which signs users up, puts
 * files and keeps what the tests use). After each test it is closed, and so is every homeserver
 * the test started through the returned `start` (to restart with other options).
 */
export function homeserverFixture(ready: (hs: Homeserver) => Promise<void> | void): {
  start(options?: HomeserverOptions): Promise<Homeserver>;
} {
  const started: Homeserver[] = [];
  const start = async (options?: HomeserverOptions) => {
    const hs = await startHomeserver(options);
    started.push(hs);
    return hs;
  };
  beforeEach(async () => {
    await ready(await start());
  });
  afterEach(async () => {
    for (const hs of started.splice(0)) await hs.close();
  });
  return { start };
}

export async function signup(
  hs: Homeserver,
  options: { keypair?: Keypair; capabilities?: string; token?: string } = {},
): Promise<TestUser> {
  const keypair = options.keypair ?? Keypair.random();
  const query = options.token ? `?signup_token=${options.token}` : '';
  const response = await fetch(`${hs.url}/signup${query}`, {
    method: 'POST',
    headers: { 'pubky-host': hs.publicKey.z32 },
    body: signAuthToken(keypair, options.capabilities),
  });
  if (response.status !== 200) throw new Error(`signup failed: ${response.status} ${await response.text()}`);
  const setCookie = response.headers.get('set-cookie') ?? '';
  return { keypair, z32: keypair.publicKey.z32, cookie: setCookie.split(';')[0] ?? '' };
}

/** A request to the user's tenant, with their session cookie unless `anonymous`. */
export function tenantFetch(
  hs: Homeserver,
  user: TestUser,
  path: string,
  init: RequestInit & { anonymous?: boolean } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('pubky-host', user.z32);
  if (!init.anonymous) headers.set('cookie', user.cookie);
  return fetch(`${hs.url}${path}`, { ...init, headers });
}

export async function put(hs: Homeserver, user: TestUser, path: string, body: string | Uint8Array) {
  const response = await tenantFetch(hs, user, path, { method: 'PUT', body });
  if (response.status !== 201) throw new Error(`PUT ${path}: ${response.status} ${await response.text()}`);
}

export async function blake3Base64(data: string | Uint8Array): Promise<string> {
  const hasher = await createBLAKE3();
  hasher.init();
  hasher.update(data);
  return Buffer.from(hasher.digest('binary')).toString('base64');
}

export interface SseMessage {
  event: string;
  data: string;
}

/**
 * Reads an SSE response until it ends or `count` messages arrived (then aborts the request).
 * Comments (keep-alives) are not messages.
 */
export async function readSse(url: string, count = Number.POSITIVE_INFINITY): Promise<SseMessage[]> {
  const { createParser } = await import('eventsource-parser');
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  if (response.status !== 200) throw new Error(`SSE ${response.status}: ${await response.text()}`);
  const messages: SseMessage[] = [];
  const parser = createParser({
    onEvent: (m) => messages.push({ event: m.event ?? 'message', data: m.data }),
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (messages.length >= count) break;
    }
  } finally {
    controller.abort();
  }
  return messages;
}
