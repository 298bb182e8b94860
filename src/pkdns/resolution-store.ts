import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { HomeserverEndpoint } from './endpoints.js';

/** A cached packet as kept on disk: its canonical bytes (re-verified on load) and freshness. */
export interface StoredPacket {
  bytes: string; // base64 of pubkey ‖ sig ‖ timestamp ‖ dns
  fetchedAtMs: number;
  expiresAtMs: number;
  from: string;
}

/** `keys/<z32>/state/homeserver.json`: the last resolution, so a restart works offline. */
export interface StoredResolution {
  version: 1;
  user: string;
  homeserver: string | null;
  domain: string | null;
  endpoints: HomeserverEndpoint[];
  resolvedAt: string;
  packets: Record<string, StoredPacket>;
}

export interface ResolutionStore {
  load(user: string): Promise<StoredResolution | undefined>;
  save(resolution: StoredResolution): Promise<void>;
}

/**
 * Keeps each user's resolution in a JSON file; `pathFor` says where (undefined = don't persist
 * this user, e.g. a pubky that was only looked up, not added). An unreadable file is ignored: the
 * network answer replaces it.
 */
export function fileResolutionStore(pathFor: (user: string) => string | undefined): ResolutionStore {
  return {
    async load(user) {
      const path = pathFor(user);
      if (!path) return undefined;
      try {
        const stored = JSON.parse(await readFile(path, 'utf8')) as StoredResolution;
        return stored.version === 1 && stored.user === user && typeof stored.packets === 'object'
          ? stored
          : undefined;
      } catch {
        return undefined;
      }
    },
    async save(resolution) {
      const path = pathFor(resolution.user);
      if (!path) return;
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, `${JSON.stringify(resolution, null, 2)}\n`);
    },
  };
}
