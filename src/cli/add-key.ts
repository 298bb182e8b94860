import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { HomeserverClient, HomeserverError, isMissingRoute } from '../homeserver/index.js';
import { parsePubky } from '../identity/index.js';
import { homeserverEndpoints, type PkdnsResolver } from '../pkdns/index.js';
import { KeyLayout } from '../store/index.js';
import { writeKeyConfig } from '../sync/index.js';
import { CliError } from './output.js';

export interface AddedKey {
  pubky: string;
  homeserver: string;
  source: string;
  folder: string;
  knownToHomeserver: boolean;
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
    throw new CliError('ALREADY_ADDED', `${user.z32} is already backed up in ${layout.keyDir}.`);
  }
  let url: string;
  let source: string;
  if (homeserver && /^https?:\/\//i.test(homeserver)) {
    url = homeserver.replace(/\/+$/, '');
    source = 'pinned with --homeserver';
  } else if (homeserver) {
    const key = parsePubky(homeserver);
    const endpoint = homeserverEndpoints((await (await resolver()).resolvePacket(key)).packet)[0];
    if (!endpoint) throw new CliError('NO_ENDPOINT', `Homeserver ${key.z32} publishes no HTTP endpoint.`);
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
  if (reactivating) await rm(layout.inactiveMarker, { force: true });
  return { pubky: user.z32, homeserver: url, source, folder: layout.keyDir, knownToHomeserver };
}

/** The homeserver must answer; returns whether it hosts the user. Writes nothing. */
async function checkHomeserver(url: string, user: string): Promise<boolean> {
  const client = new HomeserverClient({ baseUrl: url, requestTimeoutMs: 10_000 });
  try {
    for await (const _event of client.eventsStream({ users: [{ user, cursor: '0' }], limit: 1 })) break;
    return true;
  } catch (error) {
    if (isMissingRoute(error)) return true; // an older homeserver: reachable, can't tell more
    if (error instanceof HomeserverError && error.kind === 'not-found') return false;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(
      'HOMESERVER_UNREACHABLE',
      `Cannot reach the homeserver at ${url}: ${reason}. Nothing was added.`,
    );
  }
}
