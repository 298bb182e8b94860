import { type Keypair, PublicKey, verifySignature } from '../identity/index.js';
import { PkarrPacketError } from './errors.js';
import { decodeDnsPacket, encodeDnsPacket, type PkarrRecord, relativeName } from './records.js';

/** pkarr's limits (`signed_packet.rs`): the DNS packet is at most 1000 bytes, like a BEP44 `v`. */
export const MAX_DNS_PACKET_BYTES = 1000;
const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const TIMESTAMP_BYTES = 8;
const HEADER_BYTES = SIGNATURE_BYTES + TIMESTAMP_BYTES;
/** sig ‖ timestamp ‖ dns: what relays store and serve. */
export const MAX_RELAY_PAYLOAD_BYTES = HEADER_BYTES + MAX_DNS_PACKET_BYTES;
/** pubkey ‖ sig ‖ timestamp ‖ dns (`SignedPacket::MAX_BYTES`). */
export const MAX_SIGNED_PACKET_BYTES = PUBLIC_KEY_BYTES + MAX_RELAY_PAYLOAD_BYTES;
const MAX_U64 = (1n << 64n) - 1n;
/** The latest instant a JS Date can hold, in ms. */
const MAX_DATE_MS = 8.64e15;

/**
 * A pkarr signed packet (pkarr `design/base.md`): DNS records of a key, signed with it, ordered
 * by a microsecond timestamp. Instances are always verified: there is no unchecked constructor.
 */
export class SignedPacket {
  private constructor(
    readonly publicKey: PublicKey,
    readonly signature: Uint8Array,
    readonly timestampMicros: bigint,
    readonly dnsPacket: Uint8Array,
    readonly records: readonly PkarrRecord[],
  ) {}

  /** Encodes and signs `records` (names relative to the key). Default timestamp: now. */
  static build(
    keypair: Keypair,
    records: readonly PkarrRecord[],
    timestampMicros: bigint = nowMicros(),
  ): SignedPacket {
    if (timestampMicros < 0n || timestampMicros > MAX_U64) {
      throw new PkarrPacketError('INVALID_RECORD', `A timestamp must fit in a u64, got ${timestampMicros}.`);
    }
    const dnsPacket = encodeDnsPacket(keypair.publicKey, records);
    if (dnsPacket.length > MAX_DNS_PACKET_BYTES) {
      throw tooLarge(`The records encode to ${dnsPacket.length} bytes of DNS`);
    }
    const signature = keypair.sign(signable(timestampMicros, dnsPacket));
    // Decoding what we encoded gives the canonical relative names and data (e.g. IPv6 text).
    const decoded = decodeDnsPacket(keypair.publicKey, dnsPacket);
    return new SignedPacket(keypair.publicKey, signature, timestampMicros, dnsPacket, decoded);
  }

  /** Verifies a relay payload `sig(64) ‖ timestamp(8, BE µs) ‖ dns` for `publicKey`. */
  static fromRelayPayload(publicKey: PublicKey, payload: Uint8Array): SignedPacket {
    if (payload.length < HEADER_BYTES) {
      throw new PkarrPacketError(
        'TOO_SHORT',
        `A relay payload has at least ${HEADER_BYTES} bytes (signature and timestamp), got ${payload.length}.`,
      );
    }
    if (payload.length > MAX_RELAY_PAYLOAD_BYTES) {
      throw tooLarge(`The relay payload has ${payload.length} bytes (max ${MAX_RELAY_PAYLOAD_BYTES})`);
    }
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const signature = Uint8Array.from(payload.subarray(0, SIGNATURE_BYTES));
    const timestampMicros = view.getBigUint64(SIGNATURE_BYTES);
    const dnsPacket = Uint8Array.from(payload.subarray(HEADER_BYTES));
    if (!verifySignature(publicKey, signable(timestampMicros, dnsPacket), signature)) {
      throw new PkarrPacketError(
        'BAD_SIGNATURE',
        `The packet is not signed by ${publicKey.z32}: it was altered or belongs to another key.`,
      );
    }
    const records = decodeDnsPacket(publicKey, dnsPacket);
    return new SignedPacket(publicKey, signature, timestampMicros, dnsPacket, records);
  }

  /** Verifies canonical bytes `pubkey(32) ‖ sig(64) ‖ timestamp(8) ‖ dns`. */
  static fromBytes(bytes: Uint8Array): SignedPacket {
    if (bytes.length < PUBLIC_KEY_BYTES + HEADER_BYTES) {
      throw new PkarrPacketError(
        'TOO_SHORT',
        `A signed packet has at least ${PUBLIC_KEY_BYTES + HEADER_BYTES} bytes, got ${bytes.length}.`,
      );
    }
    let publicKey: PublicKey;
    try {
      publicKey = PublicKey.fromBytes(bytes.subarray(0, PUBLIC_KEY_BYTES));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new PkarrPacketError('BAD_PUBLIC_KEY', `The packet's public key is invalid: ${reason}`);
    }
    return SignedPacket.fromRelayPayload(publicKey, bytes.subarray(PUBLIC_KEY_BYTES));
  }

  toRelayPayload(): Uint8Array {
    const payload = new Uint8Array(HEADER_BYTES + this.dnsPacket.length);
    payload.set(this.signature, 0);
    new DataView(payload.buffer).setBigUint64(SIGNATURE_BYTES, this.timestampMicros);
    payload.set(this.dnsPacket, HEADER_BYTES);
    return payload;
  }

  toBytes(): Uint8Array {
    const bytes = new Uint8Array(PUBLIC_KEY_BYTES + HEADER_BYTES + this.dnsPacket.length);
    bytes.set(this.publicKey.bytes, 0);
    bytes.set(this.toRelayPayload(), PUBLIC_KEY_BYTES);
    return bytes;
  }

  /**
   * pkarr's `more_recent_than`: the later timestamp wins; on a tie the lexicographically larger
   * DNS packet wins, so every node picks the same packet. Identical packets are not more recent.
   */
  moreRecentThan(other: SignedPacket): boolean {
    if (this.timestampMicros !== other.timestampMicros) return this.timestampMicros > other.timestampMicros;
    return Buffer.compare(this.dnsPacket, other.dnsPacket) > 0;
  }

  /** True when both are byte-for-byte the same packet. */
  sameAs(other: SignedPacket): boolean {
    return this.publicKey.equals(other.publicKey) && Buffer.compare(this.toBytes(), other.toBytes()) === 0;
  }

  /** Records at `name` (relative like `_pubky`, `.`/`@` for the apex, or absolute). */
  recordsNamed(name: string): PkarrRecord[] {
    const wanted = relativeName(this.publicKey.z32, name).toLowerCase();
    return this.records.filter((record) => record.name.toLowerCase() === wanted);
  }

  /** pkarr's `ttl(min, max)`: the smallest record TTL, clamped; `min` when there are no records. */
  ttl(min: number, max: number): number {
    if (this.records.length === 0) return min;
    const smallest = Math.min(...this.records.map((record) => record.ttl));
    return Math.min(Math.max(smallest, min), max);
  }

  /** Timestamp in whole seconds (what HTTP dates can express). */
  timestampSeconds(): number {
    return Number(this.timestampMicros / 1_000_000n);
  }

  /** The timestamp as an HTTP date, for `Last-Modified`. */
  lastModifiedHttpDate(): string {
    const ms = Math.min(Number(this.timestampMicros / 1000n), MAX_DATE_MS);
    return new Date(ms).toUTCString();
  }
}

/** BEP44 signable: bencoded `seq` and `v` (pkarr `signed_packet.rs` `fn signable`). */
function signable(timestampMicros: bigint, dnsPacket: Uint8Array): Uint8Array {
  const prefix = Buffer.from(`3:seqi${timestampMicros}e1:v${dnsPacket.length}:`, 'ascii');
  return Buffer.concat([prefix, dnsPacket]);
}

let lastTimestamp = 0n;

/** Wall-clock µs, strictly increasing within the process so back-to-back packets still order. */
function nowMicros(): bigint {
  const now = BigInt(Date.now()) * 1000n;
  lastTimestamp = now > lastTimestamp ? now : lastTimestamp + 1n;
  return lastTimestamp;
}

function tooLarge(what: string): PkarrPacketError {
  return new PkarrPacketError('TOO_LARGE', `${what}; a pkarr packet holds at most ${MAX_DNS_PACKET_BYTES}.`);
}
