import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { parsePubky } from '../identity/index.js';
import {
  DEFAULT_DHT_BOOTSTRAP,
  DEFAULT_RELAYS,
  fileResolutionStore,
  PkarrDht,
  PkdnsResolver,
} from '../pkdns/index.js';
import type { HomeserverLocation } from '../sync/index.js';

export interface PkdnsFlags {
  relay?: string[];
  dht?: boolean;
  dhtBootstrap?: string[];
}

export const RELAYS_ENV = 'PUBKY_RELAYS';

/** Relays in order of precedence: `--relay`, `PUBKY_RELAYS`, config.json `relays`, the public defaults. */
export async function chooseRelays(flags: PkdnsFlags, dataDir: string): Promise<string[]> {
  if (flags.relay && flags.relay.length > 0) return flags.relay;
  const fromEnv = process.env[RELAYS_ENV]?.split(/[\s,]+/).filter(Boolean);
  if (fromEnv && fromEnv.length > 0) return fromEnv;
  const config = await loadConfig(dataDir);
  return config.relays.length > 0 ? config.relays : DEFAULT_RELAYS;
}

/**
 * A resolver wired as the CLI flags say, persisting resolutions of added keys in
 * `keys/<z32>/state/homeserver.json`. Close it to leave the DHT.
 */
export async function openResolver(flags: PkdnsFlags, dataDir: string) {
  const relays = await chooseRelays(flags, dataDir);
  let dht: PkarrDht | undefined;
  if (flags.dht !== false) {
    const bootstrap =
      flags.dhtBootstrap && flags.dhtBootstrap.length > 0 ? flags.dhtBootstrap : DEFAULT_DHT_BOOTSTRAP;
    // Local-only bootstrap (tests, testnets): stay on loopback; the real DHT needs every interface.
    const loopback = bootstrap.every((node) => /^(127\.|localhost:|\[::1\])/.test(node));
    dht = await PkarrDht.start({ bootstrap, host: loopback ? '127.0.0.1' : '0.0.0.0' });
  }
  const store = fileResolutionStore((user) => {
    const keyDir = join(dataDir, 'keys', user);
    return existsSync(keyDir) ? join(keyDir, 'state', 'homeserver.json') : undefined;
  });
  const resolver = new PkdnsResolver({ relays, dht, store });
  return {
    resolver,
    relays,
    /** The DHT client when enabled (migrate publishes to it too). */
    dht,
    dhtEnabled: dht !== undefined,
    async close() {
      await dht?.close();
    },
  };
}

/**
 * `openResolver` on first use only (joining the DHT costs time, and many runs never resolve
 * anything): `resolver()` opens it, `close()` closes it if it was opened.
 */
export function lazyResolver(flags: PkdnsFlags, dataDir: string) {
  let opened: Awaited<ReturnType<typeof openResolver>> | undefined;
  return {
    resolver: async (): Promise<PkdnsResolver> => {
      opened ??= await openResolver(flags, dataDir);
      return opened.resolver;
    },
    async close() {
      await opened?.close();
    },
  };
}

/** Where SyncManager finds an unpinned key: its first endpoint, identified by the homeserver key. */
export async function locateHomeserver(resolver: PkdnsResolver, pubky: string): Promise<HomeserverLocation> {
  const resolution = await resolver.resolveHomeserver(parsePubky(pubky));
  return {
    url: (resolution.endpoints[0] as { url: string }).url,
    identity: resolution.homeserver ?? resolution.domain ?? '',
  };
}
