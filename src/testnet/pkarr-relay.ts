import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PublicKey } from '../identity/index.js';
import { PkarrPacketError } from '../pkdns/errors.js';
import { MAX_SIGNED_PACKET_BYTES, SignedPacket } from '../pkdns/signed-packet.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/**
 * A local pkarr relay (pkarr `relay/src/handlers.rs`, `design/relays.md`) without a DHT behind
 * it: packets live in memory, optionally mirrored to a folder. The official SDK in testnet mode
 * (or configured with its URL) publishes and resolves through it.
 */

export interface PkarrRelayOptions {
  /** Loopback only: `127.0.0.1` (default), `localhost` (served on 127.0.0.1) or `::1`. */
  host?: string;
  /** 0 (default) picks a free port. The pubky testnet's fixed port is 15411. */
  port?: number;
  /** Keep packets here (`<z32>.pkarr`, canonical bytes) so the relay survives restarts. */
  dataDir?: string;
}

export interface PkarrRelay {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Latest packet per z32 key; tests may read or seed it directly. */
  packets: Map<string, SignedPacket>;
}

const PAYLOAD_CONTENT_TYPE = 'application/pkarr.org/relays#payload';
/** axum's body limit in the real relay; payloads between 1073 and 1104 bytes then fail as 400. */
const BODY_LIMIT = MAX_SIGNED_PACKET_BYTES;
const MIN_TTL = 300;
const MAX_TTL = 86400;
const EXPOSED_HEADERS = 'Cache-Control, Content-Type, Last-Modified, Pkarr-Dht-Stored-Nodes';
const PACKET_FILE_SUFFIX = '.pkarr';
const BIND_ADDRESSES: Record<string, string> = {
  '127.0.0.1': '127.0.0.1',
  localhost: '127.0.0.1',
  '::1': '::1',
};

export async function startPkarrRelay(options: PkarrRelayOptions = {}): Promise<PkarrRelay> {
  const host = options.host ?? '127.0.0.1';
  const bindAddress = BIND_ADDRESSES[host];
  if (!bindAddress) throw new Error(`The testnet relay listens on loopback only, not on "${host}".`);
  const store: PacketStore = {
    packets: options.dataDir ? await loadPackets(options.dataDir) : new Map(),
    dataDir: options.dataDir,
    writes: Promise.resolve(),
  };
  const server = createServer((request, response) => {
    handle(store, request, response).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) reply(request, response, 500, `Relay error: ${reason}`);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bindAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '::1' ? '[::1]' : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    packets: store.packets,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets (the SDK's fetch keeps them) would hold close() open forever.
        server.closeAllConnections();
      }),
  };
}

interface PacketStore {
  packets: Map<string, SignedPacket>;
  dataDir: string | undefined;
  /** PUTs are applied one at a time, so a slow disk write cannot let an older packet win. */
  writes: Promise<void>;
}

async function handle(store: PacketStore, request: IncomingMessage, response: ServerResponse): Promise<void> {
  setCorsHeaders(request, response);
  const method = request.method ?? 'GET';
  if (method === 'OPTIONS') return preflight(request, response);
  const path = new URL(request.url ?? '/', 'http://relay').pathname;
  if (path === '/') {
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(request, response, 'GET, HEAD');
    return info(response, store.packets.size);
  }
  const segment = path.slice(1);
  if (segment.includes('/')) return reply(request, response, 404, 'Not found.');
  if (method === 'PUT') return put(store, segment, request, response);
  if (method === 'GET' || method === 'HEAD') return get(store.packets, segment, request, response);
  return methodNotAllowed(request, response, 'GET, HEAD, PUT');
}

async function put(
  store: PacketStore,
  keyText: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > BODY_LIMIT) return tooLarge(request, response);
  const body = await readBody(request, BODY_LIMIT);
  if (!body) return tooLarge(request, response);
  const publicKey = parseKey(keyText);
  if (!publicKey) return reply(request, response, 400, `Invalid public key: "${keyText}".`);
  const cas = parseIfMatch(request.headers['if-match']);
  if (cas === null) return reply(request, response, 400, 'Invalid IF_MATCH header value');
  let packet: SignedPacket;
  try {
    packet = SignedPacket.fromRelayPayload(publicKey, body);
  } catch (error) {
    if (!(error instanceof PkarrPacketError)) throw error;
    return reply(request, response, 400, `Invalid signed packet: ${error.message}`);
  }
  const done = store.writes.then(() => accept(store, packet, cas, request, response));
  store.writes = done.catch(() => undefined);
  return done;
}

/** Checks a verified packet against the stored one and keeps it (on disk first, if configured). */
async function accept(
  store: PacketStore,
  packet: SignedPacket,
  cas: bigint | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const z32 = packet.publicKey.z32;
  const stored = store.packets.get(z32);
  if (stored?.moreRecentThan(packet)) {
    return reply(request, response, 409, 'Conflict: the relay has a more recent packet for this key.');
  }
  // BEP44 CAS: only a node holding an item can find a mismatch.
  if (stored && cas !== undefined && stored.timestampMicros !== cas) {
    return reply(
      request,
      response,
      412,
      `Precondition failed: If-Match ${cas} but the current packet has timestamp ${stored.timestampMicros}.`,
    );
  }
  if (store.dataDir) {
    await writeFileAtomic(join(store.dataDir, `${z32}${PACKET_FILE_SUFFIX}`), packet.toBytes());
  }
  store.packets.set(z32, packet);
  response.statusCode = 204;
  response.setHeader('Pkarr-Dht-Stored-Nodes', '0');
  response.end();
}

function get(
  packets: Map<string, SignedPacket>,
  keyText: string,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const publicKey = parseKey(keyText);
  const packet = publicKey && packets.get(publicKey.z32);
  if (!packet) {
    if (publicKey) reply(request, response, 404, 'Not found.');
    else reply(request, response, 400, `Invalid public key: "${keyText}".`);
    return;
  }
  response.setHeader('Content-Type', PAYLOAD_CONTENT_TYPE);
  response.setHeader('Cache-Control', `public, max-age=${packet.ttl(MIN_TTL, MAX_TTL)}`);
  response.setHeader('Last-Modified', packet.lastModifiedHttpDate());
  const since = Date.parse(String(request.headers['if-modified-since'] ?? ''));
  // HTTP dates have whole seconds: compare the packet's second, like the real relay's HttpDate.
  if (!Number.isNaN(since) && since / 1000 >= packet.timestampSeconds()) {
    response.statusCode = 304;
    response.end();
    return;
  }
  const payload = packet.toRelayPayload();
  response.statusCode = 200;
  response.setHeader('Content-Length', payload.length);
  response.end(payload);
}

/** Packets kept by an earlier run; files that no longer verify are skipped. */
async function loadPackets(dataDir: string): Promise<Map<string, SignedPacket>> {
  await mkdir(dataDir, { recursive: true });
  const packets = new Map<string, SignedPacket>();
  for (const file of await readdir(dataDir)) {
    if (!file.endsWith(PACKET_FILE_SUFFIX) || file.startsWith('.')) continue;
    try {
      const packet = SignedPacket.fromBytes(await readFile(join(dataDir, file)));
      if (`${packet.publicKey.z32}${PACKET_FILE_SUFFIX}` === file) packets.set(packet.publicKey.z32, packet);
    } catch {
      // A damaged file is a packet the relay never had: clients republish.
    }
  }
  return packets;
}

function info(response: ServerResponse, count: number): void {
  response.statusCode = 200;
  response.setHeader('Content-Type', 'text/html; charset=utf-8');
  response.end(
    '<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><title>Pkarr Relay</title></head>' +
      '<body><h1>Pkarr Relay</h1><p>Local testnet <a href="https://github.com/pubky/pkarr/blob/main/design/relays.md">' +
      `pkarr relay</a> (no DHT) of pubky-backup.</p><pre>packets: ${count}</pre></body></html>\n`,
  );
}

/** tower-http's `CorsLayer::very_permissive()`: mirror the origin and allow credentials. */
function setCorsHeaders(request: IncomingMessage, response: ServerResponse): void {
  const origin = request.headers.origin;
  response.setHeader('Access-Control-Allow-Origin', origin ?? '*');
  if (origin) response.setHeader('Access-Control-Allow-Credentials', 'true');
  response.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  response.setHeader('Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
}

function preflight(request: IncomingMessage, response: ServerResponse): void {
  const methods = request.headers['access-control-request-method'];
  const headers = request.headers['access-control-request-headers'];
  response.setHeader('Access-Control-Allow-Methods', methods ?? 'GET, HEAD, PUT, OPTIONS');
  if (headers) response.setHeader('Access-Control-Allow-Headers', headers);
  response.setHeader('Access-Control-Max-Age', '86400');
  response.statusCode = 204;
  response.end();
}

function methodNotAllowed(request: IncomingMessage, response: ServerResponse, allow: string): void {
  response.setHeader('Allow', allow);
  reply(request, response, 405, 'Method not allowed.');
}

function tooLarge(request: IncomingMessage, response: ServerResponse): void {
  // The rest of the body is not read: close the connection instead of draining it.
  response.setHeader('Connection', 'close');
  reply(request, response, 413, `Payload too large: a relay accepts at most ${BODY_LIMIT} bytes.`);
}

function reply(request: IncomingMessage, response: ServerResponse, status: number, message: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.end(request.method === 'HEAD' ? undefined : `${message}\n`);
}

function parseKey(text: string): PublicKey | undefined {
  try {
    return PublicKey.parse(decodeURIComponent(text));
  } catch {
    return undefined;
  }
}

/** undefined when absent, null when not a decimal u64 (the real relay answers 400 then). */
function parseIfMatch(header: string | undefined): bigint | undefined | null {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (!/^\d{1,20}$/.test(text)) return null;
  const value = BigInt(text);
  return value < 1n << 64n ? value : null;
}

/**
 * The whole body, or undefined once it grows past `limit`. The rest is left unread rather than
 * destroyed, so the 413 answer still reaches the client (`Connection: close` ends the socket).
 */
function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length <= limit) {
        chunks.push(chunk);
        return;
      }
      request.off('data', onData);
      request.pause();
      resolve(undefined);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}
