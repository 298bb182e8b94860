import { createHash } from 'node:crypto';
import DHT, { type Bep44Verify, type DhtError } from 'bittorrent-dht';
import { PublicKey, verifySignature } from '../identity/index.js';
import { MAX_DNS_PACKET_BYTES, SignedPacket } from './signed-packet.js';

/**
 * pkarr packets on the BitTorrent mainline DHT (pkarr `design/base.md`): a BEP44 mutable item
 * with k = public key, seq = timestamp (µs), sig = the packet's signature, v = the DNS packet and
 * no salt, stored under sha1(k).
 *
 * bittorrent-dht@11 quirks this wrapper deals with:
 * - An omitted `bootstrap` option means the PUBLIC mainline routers, so `start` always passes
 *   either the given list or `false`.
 * - `seq`/`cas` must be JS numbers. pkarr timestamps (~1.8e15 µs today) are far below 2^53, and
 *   bencode decodes integers as numbers: a seq above 2^53 cannot round-trip, so it is refused.
 * - `put` refuses `v` of 1000 bytes or more, while pkarr allows a 1000-byte DNS packet, so such
 *   a packet can only be published through a relay.
 * - Storage nodes running bittorrent-dht answer `302` to a put whose seq is not strictly greater
 *   than the stored one, even for the identical packet: republishing the same packet fails with
 *   `NOT_MOST_RECENT` there.
 * - `sign`/`verify` receive the signable as a plain Uint8Array (bencode@4), not a Buffer: no
 *   Buffer methods on it.
 * - Its `get` keeps the reply with the highest seq and only reports when the whole lookup is
 *   over; the per-get verify collects packets instead, so ties break like pkarr and a timeout
 *   still returns the best answer so far.
 */

export interface PkarrDhtStartOptions {
  /** Nodes to join through, as `host:port`; empty = start alone (the first node of a network). */
  bootstrap: readonly string[];
  /** IPv4 address to bind; default 127.0.0.1. */
  host?: string;
  /** UDP port; default 0 (any free port). */
  port?: number;
}

export interface PkarrDhtGetOptions {
  /** Give up after this long and answer with what arrived; default `DEFAULT_DHT_GET_TIMEOUT_MS`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface PkarrDhtPutOptions {
  /** Compare-and-swap: the timestamp of the packet this one replaces. */
  cas?: bigint;
}

export type PkarrDhtErrorCode =
  | 'UNSUPPORTED_PACKET'
  | 'NO_NODES'
  | 'CAS_MISMATCH'
  | 'NOT_MOST_RECENT'
  | 'PUT_FAILED'
  | 'CLOSED';

export class PkarrDhtError extends Error {
  override readonly name = 'PkarrDhtError';
  constructor(
    readonly code: PkarrDhtErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Long enough for a lookup where some nodes never answer (k-rpc drops a query after ~2-2.5 s). */
export const DEFAULT_DHT_GET_TIMEOUT_MS = 5_000;
/** bittorrent-dht's `put` demands `v.length < 1000`. */
const BITTORRENT_DHT_MAX_V = 999;
const SIGNATURE_BYTES = 64;
const U64_MAX = (1n << 64n) - 1n;
const SIGNABLE_HEADER = /^3:seqi(0|[1-9][0-9]*)e1:v(0|[1-9][0-9]*):/;
/** Longest possible header: 20-digit seq and a 4-digit length. */
const SIGNABLE_HEADER_MAX = 40;

export class PkarrDht {
  private closed = false;
  /** Settles every get/put still waiting when `close` runs: a destroyed DHT never calls back. */
  private readonly pending = new Set<() => void>();

  private constructor(private readonly dht: DHT) {}

  /** Binds a node and waits until its bootstrap lookup is done (its routing table is filled). */
  static async start(options: PkarrDhtStartOptions): Promise<PkarrDht> {
    const bootstrap = options.bootstrap.map(checkNodeAddress);
    const dht = new DHT({ bootstrap: bootstrap.length > 0 ? bootstrap : false, verify: verifyMutableItem });
    // Bind now, in the same tick: the bootstrap queries sent on the next tick would otherwise
    // bind the socket implicitly to 0.0.0.0.
    const listening = new Promise<void>((resolve, reject) => {
      dht.once('error', reject);
      dht.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        dht.off('error', reject);
        resolve();
      });
    });
    const ready = new Promise<void>((resolve) => {
      if (dht.ready) resolve();
      else dht.once('ready', () => resolve());
    });
    try {
      await listening;
      await ready;
    } catch (error) {
      await new Promise<void>((resolve) => dht.destroy(resolve));
      throw error;
    }
    // Late socket errors must not crash the process (an unhandled 'error' event throws).
    dht.on('error', () => {});
    return new PkarrDht(dht);
  }

  /** `host:port` this node listens on. */
  address(): string {
    const { address, port } = this.dht.address();
    return `${address}:${port}`;
  }

  /**
   * The most recent valid packet the DHT holds for `publicKey`, or undefined when no node has
   * one (or none answered before the timeout). Items with a bad signature, another key, a salt
   * or an invalid DNS packet are ignored.
   */
  async get(publicKey: PublicKey, options: PkarrDhtGetOptions = {}): Promise<SignedPacket | undefined> {
    if (this.closed) throw closedError();
    const { signal } = options;
    signal?.throwIfAborted();
    let newest: SignedPacket | undefined;
    const collect: Bep44Verify = (signature, message, key) => {
      const packet = packetFromItem(publicKey, key, signature, message);
      if (!packet) return false;
      if (!newest || packet.moreRecentThan(newest)) newest = packet;
      return true;
    };
    return new Promise((resolve, reject) => {
      const settle = (error?: unknown): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(finish);
        if (error === undefined) resolve(newest);
        else reject(error);
      };
      const onAbort = (): void => settle(signal?.reason);
      const finish = (): void => settle();
      const timer = setTimeout(finish, options.timeoutMs ?? DEFAULT_DHT_GET_TIMEOUT_MS);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.add(finish);
      // cache: false, so a node that stores the item itself still reads the newest from the others.
      this.dht.get(dhtTarget(publicKey), { verify: collect, cache: false }, () => settle());
    });
  }

  /**
   * Stores the packet on the nodes closest to its key; resolves with how many accepted it.
   * The packet is already signed: the DHT gets its signature, never a key.
   */
  async put(packet: SignedPacket, options: PkarrDhtPutOptions = {}): Promise<number> {
    if (this.closed) throw closedError();
    const seq = toSeq(packet.timestampMicros, 'timestamp');
    const cas = options.cas === undefined ? undefined : toSeq(options.cas, 'CAS timestamp');
    if (packet.dnsPacket.length > BITTORRENT_DHT_MAX_V) {
      throw new PkarrDhtError(
        'UNSUPPORTED_PACKET',
        `The DNS packet has ${packet.dnsPacket.length} bytes; bittorrent-dht puts at most ` +
          `${BITTORRENT_DHT_MAX_V} (pkarr allows ${MAX_DNS_PACKET_BYTES}): publish it through a relay.`,
      );
    }
    const expected = signable(packet);
    let signedSomethingElse = false;
    const sign = (message: Uint8Array): Buffer => {
      // Throwing here would escape as an uncaught exception from a socket callback: flag instead.
      if (Buffer.compare(message, expected) !== 0) signedSomethingElse = true;
      return Buffer.from(packet.signature);
    };
    return new Promise((resolve, reject) => {
      const settle = (error?: unknown, stored = 0): void => {
        this.pending.delete(onClose);
        if (error === undefined) resolve(stored);
        else reject(error);
      };
      const onClose = (): void => settle(closedError());
      this.pending.add(onClose);
      const item = { k: Buffer.from(packet.publicKey.bytes), v: Buffer.from(packet.dnsPacket), seq, sign };
      this.dht.put(cas === undefined ? item : { ...item, cas }, (error, _target, stored) => {
        if (signedSomethingElse) {
          settle(
            new PkarrDhtError('PUT_FAILED', 'bittorrent-dht asked to sign bytes other than the packet.'),
          );
        } else {
          settle(error ? putError(error) : undefined, stored);
        }
      });
    });
  }

  /** Closes the socket; pending gets resolve with what they have, pending puts fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const settle of [...this.pending]) settle();
    await new Promise<void>((resolve) => this.dht.destroy(resolve));
  }
}

/**
 * BEP44 signature check of a mutable item, as bittorrent-dht calls it (storing others' puts,
 * reading replies): false, never a throw, for a malformed key or signature.
 */
export function verifyMutableItem(signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  let publicKey: PublicKey;
  try {
    publicKey = PublicKey.fromBytes(key);
  } catch {
    return false;
  }
  return verifySignature(publicKey, message, signature);
}

/** BEP44 lookup target of an unsalted mutable item: sha1 of the key. */
function dhtTarget(publicKey: PublicKey): Buffer {
  return createHash('sha1').update(publicKey.bytes).digest();
}

/** Rebuilds and fully verifies the packet behind a reply, or undefined when it is not one of ours. */
function packetFromItem(
  publicKey: PublicKey,
  key: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
): SignedPacket | undefined {
  if (Buffer.compare(key, publicKey.bytes) !== 0 || signature.length !== SIGNATURE_BYTES) return undefined;
  // A reply with a salt makes bittorrent-dht sign over `4:salt…` first: no match, rejected.
  const header = SIGNABLE_HEADER.exec(
    Buffer.from(message.subarray(0, SIGNABLE_HEADER_MAX)).toString('latin1'),
  );
  if (!header?.[1] || !header[2]) return undefined;
  const seq = BigInt(header[1]);
  const dnsPacket = message.subarray(header[0].length);
  if (seq > U64_MAX || dnsPacket.length !== Number(header[2])) return undefined;
  const timestamp = Buffer.alloc(8);
  timestamp.writeBigUInt64BE(seq);
  try {
    return SignedPacket.fromBytes(Buffer.concat([key, signature, timestamp, dnsPacket]));
  } catch {
    return undefined;
  }
}

/** pkarr's signable (`signed_packet.rs`), to check what bittorrent-dht asks us to sign. */
function signable(packet: SignedPacket): Buffer {
  const prefix = `3:seqi${packet.timestampMicros}e1:v${packet.dnsPacket.length}:`;
  return Buffer.concat([Buffer.from(prefix, 'ascii'), packet.dnsPacket]);
}

function toSeq(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new PkarrDhtError(
      'UNSUPPORTED_PACKET',
      `The ${what} ${value} does not fit a BEP44 seq as bittorrent-dht handles it (0..2^53-1).`,
    );
  }
  return Number(value);
}

function putError(error: DhtError): PkarrDhtError {
  switch (error.code) {
    case 301:
      return new PkarrDhtError(
        'CAS_MISMATCH',
        'The DHT holds a different packet than the CAS timestamp names.',
      );
    case 302:
      return new PkarrDhtError('NOT_MOST_RECENT', 'The DHT already holds this packet or a more recent one.');
  }
  if (error.message === 'No nodes to query') {
    return new PkarrDhtError('NO_NODES', 'No DHT node answered: is the bootstrap list right?');
  }
  return new PkarrDhtError('PUT_FAILED', `No DHT node stored the packet: ${error.message}.`);
}

function closedError(): PkarrDhtError {
  return new PkarrDhtError('CLOSED', 'The DHT node is closed.');
}

/** `host:port` with a usable port; IPv6 is out (bittorrent-dht speaks udp4 only). */
function checkNodeAddress(address: string): string {
  const match = /^([^:\s]+):([0-9]{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    throw new RangeError(`A DHT node address is "host:port" (IPv4 or a name), got "${address}".`);
  }
  return address;
}
