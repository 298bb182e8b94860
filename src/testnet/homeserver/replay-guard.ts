import { AUTH_TOKEN_MAX_SKEW_MS, type AuthToken } from '../../homeserver/auth-token.js';

/** Remembers recent tokens so each can be used once (tokens older than the skew window are refused anyway). */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  /** False if this token was already used. */
  accept(token: AuthToken, nowMs = Date.now()): boolean {
    for (const [id, at] of this.seen) {
      if (nowMs - at > 2 * AUTH_TOKEN_MAX_SKEW_MS) this.seen.delete(id);
    }
    if (this.seen.has(token.replayId)) return false;
    this.seen.set(token.replayId, nowMs);
    return true;
  }
}
