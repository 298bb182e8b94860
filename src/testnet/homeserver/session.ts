import { randomBytes } from 'node:crypto';
import { base32crockford } from '@scure/base';
import { type Capability, formatCapabilities } from '../../homeserver/auth-token.js';
import type { PublicKey } from '../../identity/index.js';
import { PostcardWriter } from './postcard.js';

export interface Session {
  secret: string;
  user: PublicKey;
  capabilities: Capability[];
  createdAtMicros: bigint;
}

/** Session secrets are 16 random bytes in Crockford base32: 26 characters (`SessionSecret`). */
const SECRET_LENGTH = 26;

/** Sessions by secret; the cookie `<user z32>=<secret>` names them. */
export class SessionTable {
  private readonly bySecret = new Map<string, Session>();

  create(user: PublicKey, capabilities: Capability[]): Session {
    const session: Session = {
      secret: base32crockford.encode(randomBytes(16)),
      user,
      capabilities,
      createdAtMicros: BigInt(Date.now()) * 1000n,
    };
    this.bySecret.set(session.secret, session);
    return session;
  }

  /** The session with this secret, whoever it belongs to. */
  get(secret: string): Session | undefined {
    return this.bySecret.get(secret);
  }

  /** The session named by the request's cookie for `user`, if it is that user's. */
  fromCookie(cookieHeader: string | undefined, user: string): Session | undefined {
    const secret = sessionSecretFromCookies(cookieHeader, user);
    const session = secret === undefined ? undefined : this.bySecret.get(secret);
    return session?.user.z32 === user ? session : undefined;
  }

  delete(secret: string): void {
    this.bySecret.delete(secret);
  }
}

/**
 * The value of the cookie named `user` when it has the shape of a session secret
 * (`layers/authz.rs` `session_secret_from_cookies`); undefined otherwise.
 */
export function sessionSecretFromCookies(header: string | undefined, user: string): string | undefined {
  const value = readCookie(header, user);
  return value !== undefined && value.length === SECRET_LENGTH ? value : undefined;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * SessionInfo (pubky-common `session.rs`), postcard:
 * `version(0) ‖ pubkey(32) ‖ varint created_at µs ‖ string name ‖ string user_agent ‖ varint n ‖ n×string cap`.
 */
export function encodeSessionInfo(session: Session): Uint8Array {
  const writer = new PostcardWriter()
    .varint(0)
    .raw(session.user.bytes)
    .varint(session.createdAtMicros)
    .string('')
    .string('')
    .varint(session.capabilities.length);
  for (const cap of session.capabilities) writer.string(formatCapabilities([cap]));
  return writer.bytes();
}
