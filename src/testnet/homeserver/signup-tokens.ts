import { randomBytes } from 'node:crypto';
import { base32crockford } from '@scure/base';
import { HttpError } from './http.js';

/**
 * Signup tokens (pubky-homeserver v0.6.0 `persistence/sql/entities/signup_code.rs`): 7 random
 * bytes in upper-case Crockford base32, a hyphen after every 4 characters: `XXXX-XXXX-XXXX`.
 * Each can sign one user up.
 */
export class SignupTokens {
  /** Token → the z32 of the user who used it (undefined while unused). */
  private readonly tokens = new Map<string, string | undefined>();

  /** A new unused token (the admin server's `GET /generate_signup_token`). */
  generate(): string {
    const chars = base32crockford.encode(randomBytes(7));
    const token = chars.match(/.{1,4}/g)?.join('-') ?? chars;
    this.tokens.set(token, undefined);
    return token;
  }

  get total(): number {
    return this.tokens.size;
  }

  get unused(): number {
    let count = 0;
    for (const usedBy of this.tokens.values()) if (usedBy === undefined) count++;
    return count;
  }

  /**
   * Checks `?signup_token=` for a signup of `user` and marks it used. Errors as `routes/auth.rs`:
   * 400 "Token required", 400 "Invalid signup token format: …", 401 "Invalid token",
   * 401 "Token already used".
   */
  consume(token: string | null, user: string): void {
    if (token === null) throw new HttpError(400, 'Token required');
    if (!isSignupTokenFormat(token)) {
      throw new HttpError(400, 'Invalid signup token format: Invalid signup code id');
    }
    if (!this.tokens.has(token)) throw new HttpError(401, 'Invalid token');
    if (this.tokens.get(token) !== undefined) throw new HttpError(401, 'Token already used');
    this.tokens.set(token, user);
  }
}

/** `SignupCodeId::is_valid`: 14 characters that, without hyphens, are Crockford base32. */
function isSignupTokenFormat(value: string): boolean {
  return value.length === 14 && /^[0-9A-TV-Z]*$/i.test(value.replaceAll('-', ''));
}
