import type { Keypair, PublicKey } from '../identity/index.js';
import { LOOKUP_TIMEOUT_MS, RELAY_REQUEST_TIMEOUT_MS } from './defaults.js';
import { PkdnsError } from './errors.js';
import { lookupPacket } from './lookup.js';
import { PUBKY_RECORD_NAME, pubkyRecord } from './records.js';
import { putToRelay } from './relay-client.js';
import { SignedPacket } from './signed-packet.js';
import { type DhtGetter, dhtSource, relaySource } from './sources.js';

/** A DHT that can also store packets (BEP44 mutable put). */
export interface DhtPutter extends DhtGetter {
  put(packet: SignedPacket, options?: { cas?: bigint }): Promise<unknown>;
}

export interface PublishOptions {
  relays: readonly string[];
  dht?: DhtPutter;
  timeoutMs?: number;
}

export interface PublishOutcome {
  packet: SignedPacket;
  previous?: SignedPacket;
  results: { target: string; ok: boolean; detail?: string }[];
}

/**
 * Points the user's `_pubky` record at `homeserver` (migration): reads the current packet fresh,
 * keeps every other record, signs a newer packet and publishes it with compare-and-swap on the
 * old timestamp. Succeeds when most relays (or, without relays, the DHT) accepted it.
 */
export async function publishHomeserver(
  keypair: Keypair,
  homeserver: PublicKey,
  options: PublishOptions,
): Promise<PublishOutcome> {
  const timeoutMs = options.timeoutMs ?? LOOKUP_TIMEOUT_MS;
  const sources = options.relays.map((url) => relaySource(url, RELAY_REQUEST_TIMEOUT_MS));
  if (options.dht) sources.push(dhtSource(options.dht, timeoutMs));
  if (sources.length === 0) throw new PkdnsError('NO_SOURCES', 'No relay and no DHT to publish to.');
  const { packet: previous } = await lookupPacket(keypair.publicKey, sources, { timeoutMs });
  const kept = (previous?.records ?? []).filter(
    (r) => r.name !== PUBKY_RECORD_NAME && !r.name.startsWith(`${PUBKY_RECORD_NAME}.`),
  );
  const now = BigInt(Date.now()) * 1000n;
  const timestamp = previous && previous.timestampMicros >= now ? previous.timestampMicros + 1n : now;
  const packet = SignedPacket.build(keypair, [...kept, pubkyRecord(homeserver)], timestamp);
  const cas = previous?.timestampMicros;

  const attempts = options.relays.map(async (url) => {
    try {
      await putToRelay(url, packet, { cas, signal: AbortSignal.timeout(3 * RELAY_REQUEST_TIMEOUT_MS) });
      return { target: url, ok: true };
    } catch (error) {
      return { target: url, ok: false, detail: (error as Error).message };
    }
  });
  if (options.dht) {
    const dht = options.dht;
    attempts.push(
      dht.put(packet, { cas }).then(
        () => ({ target: 'DHT', ok: true }),
        (error: Error) => ({ target: 'DHT', ok: false, detail: error.message }),
      ),
    );
  }
  const results = await Promise.all(attempts);
  const relayResults = results.filter((r) => r.target !== 'DHT');
  const accepted = relayResults.length > 0 ? relayResults : results;
  if (accepted.filter((r) => r.ok).length * 2 <= accepted.length) {
    throw new PkdnsError(
      'PUBLISH_FAILED',
      `Publishing the new _pubky record failed: ${results.map((r) => `${r.target}: ${r.ok ? 'ok' : r.detail}`).join('; ')}`,
      results.map((r) => ({ source: r.target, outcome: r.ok ? 'ok' : 'failed', detail: r.detail })),
    );
  }
  return { packet, previous, results };
}
