import { type PublicKey, parsePubky } from '../identity/index.js';
import { PUBKY_RECORD_NAME, type SvcbData, svcbHttpPort } from './records.js';
import type { SignedPacket } from './signed-packet.js';

/** One way to reach a homeserver over HTTP(S). Send `pubky-host: <user>` with every request. */
export interface HomeserverEndpoint {
  /** Origin to send requests to, e.g. `https://homeserver.pubky.app` or `http://localhost:6286`. */
  url: string;
  priority: number;
}

/** Where a user's `_pubky` record points: a homeserver key, or (rarely) a plain domain. */
export type PubkyTarget = { kind: 'key'; key: PublicKey } | { kind: 'domain'; domain: string };

/** The first SVCB/HTTPS record named `_pubky` in the user's packet, as the SDK reads it. */
export function pubkyTargetOf(packet: SignedPacket): PubkyTarget | undefined {
  for (const record of packet.recordsNamed(PUBKY_RECORD_NAME)) {
    if (record.type !== 'HTTPS' && record.type !== 'SVCB') continue;
    const target = record.data.target.replace(/\.$/, '');
    try {
      return { kind: 'key', key: parsePubky(target) };
    } catch {
      if (target.includes('.')) return { kind: 'domain', domain: target };
    }
    return undefined;
  }
  return undefined;
}

/** The user's homeserver key, or undefined when `_pubky` is missing or names a domain. */
export function homeserverOf(packet: SignedPacket): PublicKey | undefined {
  const target = pubkyTargetOf(packet);
  return target?.kind === 'key' ? target.key : undefined;
}

/**
 * HTTP endpoints from a homeserver's apex HTTPS/SVCB records, by priority. Records targeting the
 * key itself (`.`) need pubky-TLS, which plain HTTP clients cannot speak, so they are skipped;
 * `localhost` means plain http on the HTTP_PORT param (65280), as in the SDK's testnet mapping.
 * SvcPriority 0 (AliasMode, `. HTTPS 0 homeserver.example.org.`, published by early homeservers)
 * names the domain to use, on port 443.
 */
export function homeserverEndpoints(packet: SignedPacket): HomeserverEndpoint[] {
  const endpoints: HomeserverEndpoint[] = [];
  for (const record of packet.recordsNamed('.')) {
    if (record.type !== 'HTTPS' && record.type !== 'SVCB') continue;
    const url = endpointUrl(record.data);
    if (url && !endpoints.some((e) => e.url === url)) endpoints.push({ url, priority: record.data.priority });
  }
  return endpoints.sort((a, b) => a.priority - b.priority);
}

export function domainEndpoint(domain: string): HomeserverEndpoint {
  return { url: `https://${domain}`, priority: 0 };
}

const PORT_PARAM = 3;

function endpointUrl(data: SvcbData): string | undefined {
  const target = data.target.replace(/\.$/, '');
  if (target === '' || target === '.') return undefined;
  if (target === 'localhost') {
    const port = svcbHttpPort(data);
    return port === undefined ? undefined : `http://localhost:${port}`;
  }
  const portBytes = data.params.get(PORT_PARAM);
  const port = portBytes?.length === 2 ? (portBytes[0] as number) * 256 + (portBytes[1] as number) : 443;
  return port === 443 ? `https://${target}` : `https://${target}:${port}`;
}
