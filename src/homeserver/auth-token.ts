import { type Keypair, PublicKey, verifySignature } from '../identity/index.js';

/**
 * Pubky AuthToken (pubky-common `auth.rs`, protocol.md §3):
 * `sig(64) ‖ "PUBKY:AUTH" ‖ version(1) ‖ timestamp u64 BE µs ‖ pubkey(32) ‖ postcard string caps`.
 * The signature covers bytes[65..] (a quirk of the original: it skips the first namespace byte).
 */
const NAMESPACE = 'PUBKY:AUTH';
const MIN_LENGTH = 64 + NAMESPACE.length + 1 + 8 + 32 + 1;
/** How far a token's clock may be from ours, as in the homeserver. */
export const AUTH_TOKEN_MAX_SKEW_MS = 45_000;

export interface AuthToken {
  publicKey: PublicKey;
  timestampMicros: bigint;
  capabilities: Capability[];
  /** Identifies the token for replay protection: timestamp ‖ pubkey. */
  replayId: string;
}

export interface Capability {
  scope: string;
  read: boolean;
  write: boolean;
}

export class AuthTokenError extends Error {
  override readonly name = 'AuthTokenError';
}

export function parseAuthToken(bytes: Uint8Array, nowMs = Date.now()): AuthToken {
  if (bytes.length < MIN_LENGTH) throw new AuthTokenError('AuthToken too short');
  const namespace = new TextDecoder().decode(bytes.subarray(64, 74));
  if (namespace !== NAMESPACE) throw new AuthTokenError('Invalid AuthToken namespace');
  if (bytes[74] !== 0) throw new AuthTokenError('Unknown AuthToken version');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const timestampMicros = view.getBigUint64(75);
  let publicKey: PublicKey;
  try {
    publicKey = PublicKey.fromBytes(bytes.subarray(83, 115));
  } catch {
    throw new AuthTokenError('Invalid public key in AuthToken');
  }
  if (!verifySignature(publicKey, bytes.subarray(65), bytes.subarray(0, 64))) {
    throw new AuthTokenError('Invalid Signature');
  }
  const skew = Number(timestampMicros / 1000n) - nowMs;
  if (skew > AUTH_TOKEN_MAX_SKEW_MS) throw new AuthTokenError('AuthToken timestamp too far in the future');
  if (skew < -AUTH_TOKEN_MAX_SKEW_MS) throw new AuthTokenError('AuthToken expired');
  const caps = readPostcardString(bytes, 115);
  return {
    publicKey,
    timestampMicros,
    capabilities: parseCapabilities(caps),
    replayId: Buffer.from(bytes.subarray(75, 115)).toString('hex'),
  };
}

/** `"/pub/app/:rw,/:r"` → capabilities; malformed entries make the whole token invalid. */
export function parseCapabilities(text: string): Capability[] {
  if (text === '') return [];
  return text.split(',').map((entry) => {
    const parts = entry.split(':');
    const [scope, actions] = parts;
    if (parts.length !== 2 || !scope?.startsWith('/') || !actions || /[^rw]/.test(actions)) {
      throw new AuthTokenError(`Invalid capability "${entry}"`);
    }
    return { scope, read: actions.includes('r'), write: actions.includes('w') };
  });
}

export function formatCapabilities(capabilities: Capability[]): string {
  return capabilities.map((cap) => `${cap.scope}:${cap.read ? 'r' : ''}${cap.write ? 'w' : ''}`).join(',');
}

/** Signs a token granting `capabilities` (default root `/:rw`, as the SDK's signup/signin do). */
export function signAuthToken(
  keypair: Keypair,
  capabilities = '/:rw',
  timestampMicros = BigInt(Date.now()) * 1000n,
): Uint8Array {
  parseCapabilities(capabilities);
  const caps = new TextEncoder().encode(capabilities);
  const varint: number[] = [];
  for (let n = caps.length; ; n >>>= 7) {
    varint.push(n > 0x7f ? (n & 0x7f) | 0x80 : n);
    if (n <= 0x7f) break;
  }
  const token = new Uint8Array(115 + varint.length + caps.length);
  token.set(new TextEncoder().encode(NAMESPACE), 64);
  new DataView(token.buffer).setBigUint64(75, timestampMicros);
  token.set(keypair.publicKey.bytes, 83);
  token.set(varint, 115);
  token.set(caps, 115 + varint.length);
  token.set(keypair.sign(token.subarray(65)), 0);
  return token;
}

/** postcard string: LEB128 varint length, then UTF-8 bytes. */
function readPostcardString(bytes: Uint8Array, offset: number): string {
  let length = 0;
  let shift = 0;
  let at = offset;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined || shift > 28) throw new AuthTokenError('Malformed AuthToken capabilities');
    length |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  if (at + length > bytes.length) throw new AuthTokenError('Malformed AuthToken capabilities');
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at, at + length));
}
