import type { PublicKey } from '../identity/index.js';
import { getFromRelay } from './relay-client.js';
import type { SignedPacket } from './signed-packet.js';

/** Somewhere a signed packet can be fetched from: one relay, or the DHT. */
export interface PacketSource {
  readonly kind: 'relay' | 'dht';
  /** Shown to users: the relay URL, or "DHT". */
  readonly name: string;
  /** The source's packet for the key (verified), undefined if it has none. Must honour `signal`. */
  get(publicKey: PublicKey, signal: AbortSignal): Promise<SignedPacket | undefined>;
}

export function relaySource(url: string, requestTimeoutMs: number): PacketSource {
  return {
    kind: 'relay',
    name: url,
    get: (publicKey, signal) =>
      getFromRelay(url, publicKey, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]),
      }),
  };
}

/** Anything that can do a BEP44 get of a pkarr packet (see `dht.ts`). */
export interface DhtGetter {
  get(
    publicKey: PublicKey,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<SignedPacket | undefined>;
}

export function dhtSource(dht: DhtGetter, timeoutMs: number): PacketSource {
  return { kind: 'dht', name: 'DHT', get: (publicKey, signal) => dht.get(publicKey, { timeoutMs, signal }) };
}
