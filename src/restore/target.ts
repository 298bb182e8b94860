import { HomeserverClient, HomeserverError, homeserverBaseUrl } from '../homeserver/index.js';
import { PubkyParseError, parsePubky } from '../identity/index.js';
import { homeserverEndpoints, type PkdnsResolver } from '../pkdns/index.js';
import { RestoreError } from './errors.js';

/** The homeserver a restore writes to. */
export interface RestoreTarget {
  /** What the user gave (`--to`). */
  given: string;
  /** Base URL every request goes to. */
  url: string;
  /** The homeserver's key (z32) when known: given, or found; `_pubky` can only point at a key. */
  key?: string;
}

/**
 * Reads `--to`: an http(s) URL is used as given (a pasted `/pub/…` link is cut to the base
 * address); anything else must be a homeserver's pubky, whose packet is looked up through PKDNS
 * (`resolver`, opened only then) for its first HTTP endpoint. `homeserverKey` names the key of a
 * URL target (migrate needs it to publish `_pubky`). Errors: `RestoreError` `BAD_TARGET`, and the
 * resolver's `PkdnsError` when the key has no packet.
 */
export async function resolveTarget(
  text: string,
  resolver: () => Promise<PkdnsResolver>,
  homeserverKey?: string,
): Promise<RestoreTarget> {
  const key = homeserverKey === undefined ? undefined : keyOf(homeserverKey, 'The homeserver key');
  if (/^https?:\/\//i.test(text.trim())) {
    try {
      return { given: text, url: homeserverBaseUrl(text).url, ...(key && { key }) };
    } catch (error) {
      throw new RestoreError('BAD_TARGET', (error as Error).message);
    }
  }
  const target = keyOf(text, 'The target');
  if (key !== undefined && key !== target) {
    throw new RestoreError(
      'BAD_TARGET',
      `The target names homeserver ${target}, but the homeserver key given is ${key}.`,
    );
  }
  const answer = await (await resolver()).resolvePacket(parsePubky(target));
  const endpoint = homeserverEndpoints(answer.packet)[0];
  if (!endpoint) {
    throw new RestoreError(
      'BAD_TARGET',
      `Homeserver ${target} publishes no HTTP endpoint: give its URL, along with its key.`,
    );
  }
  return { given: text, url: endpoint.url, key: target };
}

function keyOf(text: string, flag: string): string {
  try {
    return parsePubky(text).z32;
  } catch (error) {
    if (!(error instanceof PubkyParseError)) throw error;
    throw new RestoreError(
      'BAD_TARGET',
      `${flag} is a homeserver's pubky or an http(s):// address; ${JSON.stringify(text)} is neither (${error.message})`,
    );
  }
}

/**
 * Checks that the target answers like a homeserver (its `/events/` feed, which every generation
 * has) before anything is signed or sent. Errors: `TARGET_UNREACHABLE`, `NOT_A_HOMESERVER`.
 */
export async function probeHomeserver(client: HomeserverClient, signal?: AbortSignal): Promise<void> {
  try {
    await client.eventsPage('0', 1, signal);
  } catch (error) {
    if (error instanceof HomeserverError && (error.kind === 'not-found' || error.kind === 'client')) {
      throw new RestoreError(
        'NOT_A_HOMESERVER',
        `${client.baseUrl} does not answer like a Pubky homeserver (GET /events/ answered ${error.status ?? error.kind}).`,
      );
    }
    if (error instanceof HomeserverError && error.kind === 'aborted') throw error;
    throw new RestoreError(
      'TARGET_UNREACHABLE',
      `Cannot reach the homeserver at ${client.baseUrl}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** A client for the target with the configured timeout. */
export function targetClient(target: RestoreTarget, requestTimeoutMs: number): HomeserverClient {
  return new HomeserverClient({ baseUrl: target.url, requestTimeoutMs });
}
