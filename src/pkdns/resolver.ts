import type { PublicKey } from '../identity/index.js';
import { LOOKUP_TIMEOUT_MS, MAX_TTL_SECONDS, MIN_TTL_SECONDS, RELAY_REQUEST_TIMEOUT_MS } from './defaults.js';
import { domainEndpoint, type HomeserverEndpoint, homeserverEndpoints, pubkyTargetOf } from './endpoints.js';
import { PkdnsError } from './errors.js';
import { lookupPacket, type SourceAttempt } from './lookup.js';
import type { ResolutionStore, StoredPacket } from './resolution-store.js';
import { SignedPacket } from './signed-packet.js';
import { type DhtGetter, dhtSource, type PacketSource, relaySource } from './sources.js';

export interface ResolverOptions {
  relays: readonly string[];
  /** Mainline DHT client; omit for relays only. */
  dht?: DhtGetter;
  timeoutMs?: number;
  requestTimeoutMs?: number;
  /** Persists resolutions (e.g. `keys/<z32>/state/homeserver.json`). */
  store?: ResolutionStore;
  now?: () => number;
}

export type AnswerSource = 'relay' | 'dht' | 'cache';

export interface PacketAnswer {
  packet: SignedPacket;
  source: AnswerSource;
  /** Relay URL, "DHT", or where the cached packet originally came from. */
  from: string;
  /** Served from an expired cache because no source answered. */
  stale: boolean;
  attempts: SourceAttempt[];
}

export interface HomeserverResolution {
  user: string;
  /** Homeserver key, or undefined when `_pubky` names a plain domain. */
  homeserver?: string;
  domain?: string;
  endpoints: HomeserverEndpoint[];
  /** Where the user's packet came from (the homeserver's packet may have come from elsewhere). */
  source: AnswerSource;
  from: string;
  stale: boolean;
  attempts: SourceAttempt[];
}

interface CachedPacket {
  packet: SignedPacket;
  expiresAtMs: number;
  fetchedAtMs: number;
  from: string;
}

/**
 * Finds a user's homeserver through PKDNS: the user's packet → `_pubky` → the homeserver's
 * packet → HTTP endpoints. Packets are cached for their TTL (clamped as pkarr does), never
 * replaced by older ones, and an expired cache still answers when every source is down.
 */
export class PkdnsResolver {
  private readonly cache = new Map<string, CachedPacket>();
  private readonly loaded = new Set<string>();
  private readonly sources: PacketSource[];
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ResolverOptions) {
    const requestTimeout = options.requestTimeoutMs ?? RELAY_REQUEST_TIMEOUT_MS;
    this.timeoutMs = options.timeoutMs ?? LOOKUP_TIMEOUT_MS;
    this.sources = options.relays.map((url) => relaySource(url, requestTimeout));
    if (options.dht) this.sources.push(dhtSource(options.dht, this.timeoutMs));
    this.now = options.now ?? Date.now;
  }

  async resolveHomeserver(user: PublicKey): Promise<HomeserverResolution> {
    await this.loadStored(user.z32);
    const answer = await this.resolvePacket(user);
    const target = pubkyTargetOf(answer.packet);
    if (!target) {
      throw new PkdnsError(
        'NO_PUBKY_RECORD',
        `The pkarr packet of ${user.z32} has no _pubky record: this pubky has not announced a homeserver ` +
          '(it may never have signed up anywhere). Use --homeserver URL if you know it.',
      );
    }
    let resolution: HomeserverResolution;
    if (target.kind === 'domain') {
      resolution = {
        ...summary(answer),
        user: user.z32,
        domain: target.domain,
        endpoints: [domainEndpoint(target.domain)],
      };
    } else {
      const hs = await this.resolvePacket(target.key).catch((error: unknown) => {
        if (error instanceof PkdnsError && error.code === 'NO_PACKET') {
          throw new PkdnsError(
            'NO_HOMESERVER_PACKET',
            `${user.z32} points at homeserver ${target.key.z32}, but that homeserver has no pkarr packet. ` +
              error.message.replace(/^[^.]*\.\s*/, ''),
            error.attempts,
          );
        }
        throw error;
      });
      const endpoints = homeserverEndpoints(hs.packet);
      if (endpoints.length === 0) {
        throw new PkdnsError(
          'NO_ENDPOINT',
          `Homeserver ${target.key.z32} publishes no HTTP endpoint (only pubky-TLS, or none); ` +
            'use --homeserver URL to reach it directly.',
        );
      }
      resolution = {
        ...summary(answer),
        stale: answer.stale || hs.stale,
        attempts: [...answer.attempts, ...hs.attempts],
        user: user.z32,
        homeserver: target.key.z32,
        endpoints,
      };
    }
    await this.persist(resolution, [user, ...(target.kind === 'key' ? [target.key] : [])]);
    return resolution;
  }

  /** The freshest known packet of `publicKey`: from the cache while fresh, else from the network. */
  async resolvePacket(publicKey: PublicKey): Promise<PacketAnswer> {
    const cached = this.cache.get(publicKey.z32);
    const now = this.now();
    if (cached && now < cached.expiresAtMs) {
      return { packet: cached.packet, source: 'cache', from: cached.from, stale: false, attempts: [] };
    }
    if (this.sources.length === 0) {
      throw new PkdnsError(
        'NO_SOURCES',
        'No pkarr relay and no DHT to ask: configure --relay or enable the DHT.',
      );
    }
    const result = await lookupPacket(publicKey, this.sources, {
      timeoutMs: this.timeoutMs,
      notOlderThan: cached?.packet,
      nowMs: now,
    });
    if (result.packet && result.from) {
      const ttlMs = result.packet.ttl(MIN_TTL_SECONDS, MAX_TTL_SECONDS) * 1000;
      this.cache.set(publicKey.z32, {
        packet: result.packet,
        fetchedAtMs: now,
        expiresAtMs: now + ttlMs,
        from: result.from.name,
      });
      return {
        packet: result.packet,
        source: result.from.kind,
        from: result.from.name,
        stale: false,
        attempts: result.attempts,
      };
    }
    if (cached) {
      return {
        packet: cached.packet,
        source: 'cache',
        from: cached.from,
        stale: true,
        attempts: result.attempts,
      };
    }
    throw new PkdnsError(
      'NO_PACKET',
      `No pkarr packet found for ${publicKey.z32}. ${describe(result.attempts)}`,
      result.attempts,
    );
  }

  /** Forgets cached packets, e.g. to force a fresh lookup. */
  invalidate(publicKey: PublicKey): void {
    const cached = this.cache.get(publicKey.z32);
    if (cached) cached.expiresAtMs = 0;
  }

  private async loadStored(user: string): Promise<void> {
    if (!this.options.store || this.loaded.has(user)) return;
    this.loaded.add(user);
    const stored = await this.options.store.load(user);
    for (const [key, entry] of Object.entries(stored?.packets ?? {})) {
      try {
        const packet = SignedPacket.fromBytes(Buffer.from(entry.bytes, 'base64'));
        const known = this.cache.get(key);
        if (packet.publicKey.z32 === key && (!known || packet.moreRecentThan(known.packet))) {
          this.cache.set(key, {
            packet,
            fetchedAtMs: entry.fetchedAtMs,
            expiresAtMs: entry.expiresAtMs,
            from: entry.from,
          });
        }
      } catch {
        // A damaged cache entry is simply not used; the network answer replaces it.
      }
    }
  }

  private async persist(resolution: HomeserverResolution, keys: PublicKey[]): Promise<void> {
    if (!this.options.store) return;
    const packets: Record<string, StoredPacket> = {};
    for (const key of keys) {
      const cached = this.cache.get(key.z32);
      if (!cached) continue;
      packets[key.z32] = {
        bytes: Buffer.from(cached.packet.toBytes()).toString('base64'),
        fetchedAtMs: cached.fetchedAtMs,
        expiresAtMs: cached.expiresAtMs,
        from: cached.from,
      };
    }
    await this.options.store.save({
      version: 1,
      user: resolution.user,
      homeserver: resolution.homeserver ?? null,
      domain: resolution.domain ?? null,
      endpoints: resolution.endpoints,
      resolvedAt: new Date(this.now()).toISOString(),
      packets,
    });
  }
}

function summary(answer: PacketAnswer) {
  return { source: answer.source, from: answer.from, stale: answer.stale, attempts: answer.attempts };
}

/** "Tried: relay http://a (no packet), DHT (no answer in time)." */
export function describe(attempts: readonly SourceAttempt[]): string {
  const words: Record<SourceAttempt['outcome'], string> = {
    packet: 'answered',
    none: 'no packet',
    rejected: 'invalid packet',
    failed: 'failed',
    timeout: 'no answer in time',
  };
  const parts = attempts.map((a) => {
    const what = a.kind === 'relay' ? `relay ${a.source}` : a.source;
    return `${what} (${words[a.outcome]}${a.detail && a.outcome !== 'timeout' ? `: ${a.detail}` : ''})`;
  });
  return `Tried: ${parts.join(', ')}.`;
}
