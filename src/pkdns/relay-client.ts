import type { PublicKey } from '../identity/index.js';
import { PkarrPacketError, PkarrRelayError } from './errors.js';
import { MAX_RELAY_PAYLOAD_BYTES, SignedPacket } from './signed-packet.js';

/**
 * A minimal client of one pkarr relay (pkarr `design/relays.md`): `PUT`/`GET /<z32>` with the
 * relay payload as body. Racing several relays and the DHT is the resolver's job, not this file's.
 */

export interface RelayRequestOptions {
  signal?: AbortSignal;
}

export interface PutToRelayOptions extends RelayRequestOptions {
  /** Compare-and-swap: the timestamp of the packet this one replaces (sent as `If-Match`). */
  cas?: bigint;
}

/** How much of an error body we keep for the message: relays answer with one short line. */
const MAX_ERROR_BODY = 1024;

/** Publishes `packet` on the relay. Throws `PkarrRelayError` (with `status`) unless it answers 2xx. */
export async function putToRelay(
  relayUrl: string,
  packet: SignedPacket,
  options: PutToRelayOptions = {},
): Promise<void> {
  const headers: Record<string, string> = {};
  if (options.cas !== undefined) headers['If-Match'] = options.cas.toString();
  const response = await request(relayUrl, packet.publicKey, {
    method: 'PUT',
    headers,
    body: packet.toRelayPayload(),
    signal: options.signal,
  });
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  throw await statusError(relayUrl, response, `publish the packet of ${packet.publicKey.z32}`);
}

/**
 * The relay's packet for `publicKey`, verified; undefined when the relay has none (404).
 * A packet that fails verification throws `PkarrPacketError`: the relay is lying or broken.
 */
export async function getFromRelay(
  relayUrl: string,
  publicKey: PublicKey,
  options: RelayRequestOptions = {},
): Promise<SignedPacket | undefined> {
  const response = await request(relayUrl, publicKey, { method: 'GET', signal: options.signal });
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.status !== 200) {
    throw await statusError(relayUrl, response, `get the packet of ${publicKey.z32}`);
  }
  const payload = await readLimited(response, MAX_RELAY_PAYLOAD_BYTES);
  if (payload === undefined) {
    throw new PkarrPacketError(
      'TOO_LARGE',
      `Relay ${relayUrl} sent more than ${MAX_RELAY_PAYLOAD_BYTES} bytes: larger than any valid packet.`,
    );
  }
  return SignedPacket.fromRelayPayload(publicKey, payload);
}

/** `<relay>/<z32>`, keeping any path the relay URL already has (pkarr pushes a path segment). */
export function relayPacketUrl(relayUrl: string, publicKey: PublicKey): URL {
  const url = new URL(relayUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${publicKey.z32}`;
  return url;
}

async function request(relayUrl: string, publicKey: PublicKey, init: RequestInit): Promise<Response> {
  let url: URL;
  try {
    url = relayPacketUrl(relayUrl, publicKey);
  } catch {
    throw new PkarrRelayError(relayUrl, undefined, `"${relayUrl}" is not a valid relay URL.`);
  }
  // One retry: a pooled keep-alive connection may have been closed by a relay that restarted.
  // Both requests are idempotent (a PUT of the same packet is harmless).
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (error) {
      // Let aborts through unchanged, so callers can tell "cancelled" from "relay down".
      if (init.signal?.aborted) throw error;
      if (attempt < 2) continue;
      const reason = error instanceof Error ? (error.cause ?? error).toString() : String(error);
      throw new PkarrRelayError(relayUrl, undefined, `Relay ${relayUrl} is unreachable: ${reason}`);
    }
  }
}

async function statusError(relayUrl: string, response: Response, action: string): Promise<PkarrRelayError> {
  const bytes = await readLimited(response, MAX_ERROR_BODY, true).catch(() => undefined);
  const body = bytes ? new TextDecoder().decode(bytes).trim() : '';
  const detail = body ? `: ${body}` : '.';
  return new PkarrRelayError(
    relayUrl,
    response.status,
    `Relay ${relayUrl} refused to ${action} (HTTP ${response.status}${explain(response.status)})${detail}`,
    body,
  );
}

function explain(status: number): string {
  switch (status) {
    case 400:
      return ', invalid packet';
    case 409:
      return ', it has a more recent packet';
    case 412:
      return ', the packet changed since it was read';
    case 413:
      return ', packet too large';
    case 428:
      return ', concurrent publish without If-Match';
    case 429:
      return ', rate limited';
    default:
      return '';
  }
}

/**
 * Reads at most `limit` bytes of the body. Past the limit: undefined, or the first `limit`
 * bytes when `truncate` is set. Stops reading early so a hostile relay cannot flood us.
 */
async function readLimited(
  response: Response,
  limit: number,
  truncate = false,
): Promise<Uint8Array | undefined> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of response.body) {
    chunks.push(chunk);
    length += chunk.length;
    if (length > limit) {
      // Leaving the loop cancels the stream.
      return truncate ? Buffer.concat(chunks).subarray(0, limit) : undefined;
    }
  }
  return Buffer.concat(chunks);
}
