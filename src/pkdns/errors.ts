/** Why bytes are not an acceptable pkarr signed packet (or records cannot become one). */
export type PkarrPacketErrorCode =
  | 'TOO_SHORT'
  | 'TOO_LARGE'
  | 'BAD_PUBLIC_KEY'
  | 'BAD_SIGNATURE'
  | 'MALFORMED_DNS'
  | 'INVALID_RECORD';

export class PkarrPacketError extends Error {
  override readonly name = 'PkarrPacketError';
  constructor(
    readonly code: PkarrPacketErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A pkarr relay answered a request with an unexpected status, or could not be reached
 * (`status` is undefined then). The relay's plain-text reason, if any, is in `body`.
 */
export class PkarrRelayError extends Error {
  override readonly name = 'PkarrRelayError';
  constructor(
    readonly relayUrl: string,
    readonly status: number | undefined,
    message: string,
    readonly body?: string,
  ) {
    super(message);
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
export class PkdnsError extends Error {
  override readonly name = 'PkdnsError';
  constructor(
    readonly code: PkdnsErrorCode,
    message: string,
    readonly attempts: readonly { source: string; outcome: string; detail?: string }[] = [],
  ) {
    super(message);
  }
}
