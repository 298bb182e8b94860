import { base32crockford } from '@scure/base';
import type { HomeserverState } from './state.js';

const I64_MAX = 2n ** 63n - 1n;
const I64_MIN = -(2n ** 63n);

/**
 * An events cursor as the homeserver parses one (pubky-homeserver v0.6.0
 * `persistence/files/events/events_repository.rs` `parse_cursor`): a decimal i64 event id
 * (`-5` and `+5` are valid), or a legacy 13-character timestamp cursor (Crockford base32 of the
 * big-endian µs timestamp) that names an event by its creation time exactly. Undefined when
 * neither: callers answer 400.
 */
export function parseEventCursor(text: string, state: HomeserverState): number | undefined {
  if (/^[+-]?\d+$/.test(text)) {
    const value = BigInt(text);
    return value >= I64_MIN && value <= I64_MAX ? Number(value) : undefined;
  }
  const micros = legacyTimestamp(text);
  return micros === undefined ? undefined : state.eventCreatedAt(micros)?.id;
}

/** The legacy cursor form of an event's creation time (pubky-timestamp's `Display`). */
export function legacyCursorOf(createdAtMicros: number): string {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(createdAtMicros));
  return base32crockford.encode(bytes);
}

function legacyTimestamp(text: string): number | undefined {
  if (text.length !== 13) return undefined;
  try {
    const bytes = base32crockford.decode(text.toUpperCase());
    if (bytes.length !== 8) return undefined;
    return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0));
  } catch {
    return undefined;
  }
}
