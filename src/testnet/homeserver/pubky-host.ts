import type { IncomingMessage } from 'node:http';
import * as z32 from 'z32';
import { PublicKey, parsePubky } from '../../identity/index.js';

const Z32_KEY = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$/;

/** `PublicKey::is_pubky_prefixed` (pubky-common `keys.rs`): `pubky` followed by 52 characters. */
export function isPubkyPrefixed(value: string): boolean {
  return value.startsWith('pubky') && value.length === 57;
}

/**
 * A key as the homeserver parses one in a path or query (`PublicKey::try_from_z32` after the
 * `pubky` prefix is refused): the key's z32, or undefined. pkarr's parser also takes `pk:<z32>`
 * and URL forms, which `parsePubky` covers.
 */
export function keyOrUndefined(value: string): string | undefined {
  if (isPubkyPrefixed(value)) return undefined;
  try {
    return parsePubky(value).z32;
  } catch {
    return undefined;
  }
}

/** A bare 52-character z-base-32 ed25519 key, exactly as written (no other form), or undefined. */
export function strictZ32(value: string): string | undefined {
  if (!Z32_KEY.test(value)) return undefined;
  try {
    const key = PublicKey.fromBytes(z32.decode(value));
    return key.z32 === value ? key.z32 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The tenant of a request (`layers/pubky_host.rs`): the `host` header, then the `pubky-host`
 * header (the later valid one wins; `pubky`-prefixed values are ignored), else the first valid
 * `pubky-host=` query pair (taken raw, not percent-decoded). Undefined when none is a key: routes then answer 404
 * "Pubky Host is missing".
 */
export function pubkyHostOf(req: IncomingMessage, rawQuery: string): string | undefined {
  let tenant: string | undefined;
  for (const header of [req.headers.host, req.headers['pubky-host']]) {
    if (typeof header !== 'string') continue;
    tenant = keyOrUndefined(header) ?? tenant;
  }
  if (tenant !== undefined) return tenant;
  for (const pair of rawQuery.split('&')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq) !== 'pubky-host') continue;
    const key = keyOrUndefined(pair.slice(eq + 1));
    if (key !== undefined) return key;
  }
  return undefined;
}
