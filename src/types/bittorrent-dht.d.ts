/** The parts of bittorrent-dht@11 (`client.js`) that `src/pkdns/dht.ts` uses. */
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events';

  /**
   * BEP44 check. `message` is the bencoded signable (`3:seqi…e1:v…:…`): a plain Uint8Array from
   * bencode@4, not a Buffer; signature and key come decoded from the wire.
   */
  export type Bep44Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

  export interface DhtOptions {
    /** `false` = no bootstrap; an omitted value means the PUBLIC mainline routers. */
    bootstrap?: false | string[];
    /** Needed to store mutable items (`put` from others) and used by `get` unless overridden. */
    verify?: Bep44Verify;
    /** Per-query timeout of k-rpc-socket in ms (default 2000). */
    timeout?: number;
  }

  export interface MutablePutOptions {
    k: Buffer;
    v: Buffer;
    /** A JS number: k-rpc rejects bigint (`opts.seq not an integer`). */
    seq: number;
    cas?: number;
    /** Gets the signable as a plain Uint8Array (bencode@4), like `Bep44Verify`. */
    sign: (message: Uint8Array) => Buffer;
  }

  export interface GetOptions {
    verify?: Bep44Verify;
    /** false = always ask the network, even when this node stores the item itself. */
    cache?: boolean;
  }

  export interface GetResponse {
    v: Buffer;
    id: Buffer;
    k?: Buffer;
    sig?: Buffer;
    seq?: number;
  }

  /** A KRPC error reply (`e: [code, message]`) or a local failure (code undefined). */
  export type DhtError = Error & { code?: number | string };

  export default class DHT extends EventEmitter {
    constructor(options?: DhtOptions);
    /** Set once the bootstrap lookup finished (`ready` event). */
    readonly ready?: boolean;
    readonly destroyed: boolean;
    listen(port: number, host: string, onListening?: () => void): void;
    address(): { address: string; family: string; port: number };
    put(
      options: MutablePutOptions,
      callback: (error: DhtError | null, hash: Buffer, stored: number) => void,
    ): Buffer;
    get(
      target: Buffer,
      options: GetOptions,
      callback: (error: DhtError | null, response: GetResponse | null) => void,
    ): void;
    destroy(callback?: () => void): void;
  }
}
