import { BackupError } from '../errors.js';

/** Why bytes are not an acceptable pkarr signed packet (or records cannot become one). */
export type PkarrPacketErrorCode =
  | 'TOO_SHORT'
  | 'TOO_LARGE'
  | 'BAD_PUBLIC_KEY'
  | 'BAD_SIGNATURE'
  | 'MALFORMED_DNS'
  | 'INVALID_RECORD';

export class PkarrPacketError extends BackupError {
  override readonly name = 'PkarrPacketError';
  declare readonly code: PkarrPacketErrorCode;
  constructor(code: PkarrPacketErrorCode, message: string) {
    super(code, message, 'invalid');
  }
}

/**
 * A pkarr relay answered a request with an unexpected status, or could not be reached
 * (`status` is undefined then). The relay's plain-text reason, if any, is in `body`.
 */
export class PkarrRelayError extends BackupError {
  override readonly name = 'PkarrRelayError';
  constructor(
    readonly relayUrl: string,
    readonly status: number | undefined,
    message: string,
    readonly body?: string,
  ) {
    super('RELAY_FAILED', message, 'unavailable', { relay: relayUrl, status: status ?? null });
  }
}

export type PkdnsErrorCode =
  | 'NO_PACKET'
  | 'NO_PUBKY_RECORD'
  | 'NO_HOMESERVER_PACKET'
  | 'NO_ENDPOINT'
  | 'NO_SOURCES'
  | 'PUBLISH_FAILED';

/** Resolving or publishing a user's homeserver failed; the message says which sources were tried. */
export class PkdnsError extends BackupError {
  override readonly name = 'PkdnsError';
  declare readonly code: PkdnsErrorCode;
  constructor(
    code: PkdnsErrorCode,
    message: string,
    readonly attempts: readonly { source: string; outcome: string; detail?: string }[] = [],
  ) {
    super(code, message, code === 'NO_SOURCES' ? 'usage' : 'unavailable', { attempts });
  }
}
