import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { BackupError } from '../errors.js';
import { HomeserverClient, HomeserverError, homeserverBaseUrl, isMissingRoute } from '../homeserver/index.js';
import { parsePubky } from '../identity/index.js';
import { homeserverEndpoints, type PkdnsResolver } from '../pkdns/index.js';
import { KeyLayout, markActive, writeKeyConfig } from '../store/index.js';
import { withFeedRetries } from '../sync/index.js';

export interface AddedKey {
  pubky: string;
  homeserver: string;
  source: string;
  folder: string;
  knownToHomeserver: boolean;
  /** Set when the homeserver address given was shortened (`/pub/…` dropped): what was dropped. */
  droppedFromUrl?: string;
}

/**
 * Adds a pubky to the backup: validates it, finds its homeserver (or takes `homeserver`, a URL or a
 * homeserver pubky, which pins it), checks the homeserver answers, and only then creates its folder.
 */
export async function addKey(
  dataDir: string,
  text: string,
  /** Opened only when needed: a pinned URL needs no PKDNS (and no DHT traffic). */
  resolver: () => Promise<PkdnsResolver>,
  homeserver?: string,
): Promise<AddedKey> {
  const user = parsePubky(text);
  const layout = new KeyLayout(dataDir, user.z32);
  const reactivating = existsSync(layout.inactiveMarker);
  if (existsSync(layout.keyDir) && !reactivating) {
    throw new BackupError(
      'ALREADY_ADDED',
      `${user.z32} is already backed up in ${layout.keyDir}.`,
      'conflict',
      {
        pubky: user.z32,
      },
    );
  }
  let url: string;
  let source: string;
  let droppedFromUrl: string | undefined;
  if (homeserver && /^[a-z][a-z0-9+.-]*:\/\//i.test(homeserver) && !/^pubky:/i.test(homeserver)) {
    try {
      ({ url, dropped: droppedFromUrl } = homeserverBaseUrl(homeserver));
    } catch (error) {
      throw new BackupError('BAD_HOMESERVER_URL', `${(error as Error).message} Nothing was added.`, 'usage');
    }
    source = 'pinned with --homeserver';
  } else if (homeserver) {
    let key: ReturnType<typeof parsePubky>;
    try {
      key = parsePubky(homeserver);
    } catch {
      throw new BackupError(
        'BAD_HOMESERVER',
        `A homeserver is an http(s):// address or a homeserver's pubky; ${JSON.stringify(homeserver)} is neither` +
          (/^[\w.-]+(:\d+)?(\/.*)?$/.test(homeserver) ? ` (did you mean http://${homeserver} ?)` : '') +
          '. Nothing was added.',
        'usage',
      );
    }
    const endpoint = homeserverEndpoints((await (await resolver()).resolvePacket(key)).packet)[0];
    if (!endpoint) {
      throw new BackupError(
        'NO_ENDPOINT',
        `Homeserver ${key.z32} publishes no HTTP endpoint.`,
        'unavailable',
      );
    }
    url = endpoint.url;
    source = `pinned homeserver ${key.z32}`;
  } else {
    const resolution = await (await resolver()).resolveHomeserver(user);
    url = (resolution.endpoints[0] as { url: string }).url;
    source = `homeserver ${resolution.homeserver ?? resolution.domain} via PKDNS`;
  }
  const knownToHomeserver = await checkHomeserver(url, user.z32);

  await mkdir(layout.stateDir, { recursive: true });
  await writeKeyConfig(layout.keyConfigFile, {
    pubky: user.z32,
    addedAt: new Date().toISOString(),
    ...(homeserver && { homeserverUrl: url }),
  });
  if (reactivating) await markActive(layout);
  // The answer found above could not be kept (no folder yet): asked again from the resolver's
  // memory, it is kept in state/homeserver.json now, so `list` and `status` show it at once.
  if (!homeserver) await (await resolver()).resolveHomeserver(user).catch(() => {});
  return {
    pubky: user.z32,
    homeserver: url,
    source,
    folder: layout.keyDir,
    knownToHomeserver,
    ...(droppedFromUrl !== undefined && { droppedFromUrl }),
  };
}

/**
 * The address must be a homeserver: its `/events/` feed answers (every generation has one), so a
 * web page or a wrong path is refused here rather than failing every sync later. Returns whether it
 * hosts the user (unknown on homeservers without `/events-stream`). Writes nothing.
 */
async function checkHomeserver(url: string, user: string): Promise<boolean> {
  const client = new HomeserverClient({ baseUrl: url, requestTimeoutMs: 10_000 });
  const unreachable = (error: unknown) => {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\.+$/, '');
    return new BackupError(
      'HOMESERVER_UNREACHABLE',
      `Cannot reach the homeserver at ${url}: ${reason}. Nothing was added.`,
      'unavailable',
      { url },
    );
  };
  try {
    // A homeserver's bad minute (429, 5xx, a reset) is waited out as a sync would.
    await withFeedRetries(() => client.eventsPage('0', 1));
  } catch (error) {
    if (error instanceof HomeserverError && (error.kind === 'not-found' || error.kind === 'client')) {
      throw new BackupError(
        'NOT_A_HOMESERVER',
        `${url} does not answer like a Pubky homeserver (GET /events/ answered ${error.status ?? error.kind}). ` +
          'Check the address: it is the homeserver itself, like https://homeserver.example, not a file or page on it. Nothing was added.',
        'invalid',
        { url },
      );
    }
    throw unreachable(error);
  }
  try {
    await withFeedRetries(async () => {
      for await (const _event of client.eventsStream({ users: [{ user, cursor: '0' }], limit: 1 })) break;
    });
    return true;
  } catch (error) {
    if (isMissingRoute(error)) return true; // an older homeserver: reachable, can't tell more
    if (error instanceof HomeserverError && error.kind === 'not-found') return false;
    throw unreachable(error);
  }
}
