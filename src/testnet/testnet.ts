import { join } from 'node:path';
import { Keypair } from '../identity/index.js';
import { type AdminServer, DEFAULT_ADMIN_PASSWORD, startAdminServer } from './admin/index.js';
import { Homeserver, type HomeserverOptions } from './homeserver/index.js';
import { type HttpRelay, startHttpRelay } from './http-relay.js';
import { type PkarrRelay, startPkarrRelay } from './pkarr-relay.js';

/** pubky-core's static testnet ports (pubky-common `constants.rs`, pubky-testnet `static_testnet.rs`). */
export const TESTNET_RELAY_PORT = 15411;
export const TESTNET_HTTP_RELAY_PORT = 15412;
export const TESTNET_HOMESERVER_PORT = 6286;
export const TESTNET_ADMIN_PORT = 6288;
/** Homeserver n (1-based) listens on the first one's ports plus (n - 1) × this step. */
export const TESTNET_PORT_STEP = 10;
/** At most this many homeservers on one testnet. */
export const MAX_TESTNET_HOMESERVERS = 20;

export interface TestnetOptions {
  /** Interface every server listens on. Default 127.0.0.1. */
  host?: string;
  /** 0 = a free port. Default: 15411 like pubky-core's testnet. */
  relayPort?: number;
  /** HTTP relay port. Default: 15412 (relayPort + 1), or a free one when `relayPort` is 0. */
  httpRelayPort?: number;
  /** First homeserver's port; 0 = free ports for all. Default: 6286 like pubky-core's testnet. */
  homeserverPort?: number;
  /**
   * First homeserver's admin server port. Default: `homeserverPort` + 2 (6288, as pubky-core's
   * static testnet), or a free one when `homeserverPort` is 0.
   */
  adminPort?: number;
  /** `X-Admin-Password` of every admin server. Default `admin`. */
  adminPassword?: string;
  /** How many homeservers (1 – 20). Default 1. */
  homeservers?: number;
  /** Keep users, files, events and relay packets here, so the testnet survives restarts. */
  dataDir?: string;
  /** First homeserver's identity. Default: the static testnet key (secret = 32 zero bytes). */
  homeserverKeypair?: Keypair;
  /** Options for every homeserver. */
  homeserver?: Omit<HomeserverOptions, 'keypair' | 'host' | 'port' | 'relays' | 'dataDir'>;
}

export interface Testnet {
  relay: PkarrRelay;
  /** pubky-core's HTTP relay (`/link/<channel>`), for pubkyauth flows. */
  httpRelay: HttpRelay;
  /** The first homeserver (the static testnet key unless `homeserverKeypair` says otherwise). */
  homeserver: Homeserver;
  /** The first homeserver's admin server. */
  admin: AdminServer;
  /** Every homeserver; `homeservers[0]` is `homeserver`. */
  homeservers: Homeserver[];
  /** `admins[i]` is the admin server of `homeservers[i]`. */
  admins: AdminServer[];
  close(): Promise<void>;
}

/**
 * The keypair of testnet homeserver `index` (0-based): the static testnet key (secret = 32 zero
 * bytes, `8pinxxgqs41n4aididenw5apqp1urfmzdztr8jt4abrkdn435ewo`) for 0, then secrets whose last
 * byte is the index, so every homeserver keeps its key across runs.
 */
export function testnetHomeserverKeypair(index: number): Keypair {
  const secret = new Uint8Array(32);
  secret[31] = index;
  return Keypair.fromSecret(secret);
}

/**
 * A pkarr relay, an HTTP relay, and `homeservers` homeservers that announced themselves on the
 * relay, each with an admin server: all a Pubky client needs, like pubky-core's static testnet.
 * Throws (after closing what it started) when a port is taken.
 */
export async function startTestnet(options: TestnetOptions = {}): Promise<Testnet> {
  const host = options.host ?? '127.0.0.1';
  const count = options.homeservers ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_TESTNET_HOMESERVERS) {
    throw new RangeError(`A testnet has 1 to ${MAX_TESTNET_HOMESERVERS} homeservers, not ${count}.`);
  }
  const relayPort = options.relayPort ?? TESTNET_RELAY_PORT;
  const homeserverPort = options.homeserverPort ?? TESTNET_HOMESERVER_PORT;
  const adminPort = options.adminPort ?? (homeserverPort === 0 ? 0 : homeserverPort + 2);
  const httpRelayPort = options.httpRelayPort ?? (relayPort === 0 ? 0 : relayPort + 1);
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const relay = await startPkarrRelay({
      host,
      port: relayPort,
      dataDir: options.dataDir && join(options.dataDir, 'relay'),
    });
    closers.push(() => relay.close());
    const httpRelay = await startHttpRelay({ host, port: httpRelayPort });
    closers.push(() => httpRelay.close());
    const homeservers: Homeserver[] = [];
    const admins: AdminServer[] = [];
    for (let index = 0; index < count; index++) {
      const homeserver = await Homeserver.start({
        ...options.homeserver,
        keypair:
          index === 0 && options.homeserverKeypair
            ? options.homeserverKeypair
            : testnetHomeserverKeypair(index),
        host,
        port: steppedPort(homeserverPort, index),
        relays: [relay.url],
        dataDir:
          options.dataDir && join(options.dataDir, index === 0 ? 'homeserver' : `homeserver-${index + 1}`),
      });
      closers.push(() => homeserver.close());
      const admin = await startAdminServer(homeserver, {
        host,
        port: steppedPort(adminPort, index),
        password: options.adminPassword ?? DEFAULT_ADMIN_PASSWORD,
        icannDomain: options.homeserver?.publicHost,
      });
      closers.push(() => admin.close());
      homeservers.push(homeserver);
      admins.push(admin);
    }
    return {
      relay,
      httpRelay,
      homeserver: homeservers[0] as Homeserver,
      admin: admins[0] as AdminServer,
      homeservers,
      admins,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function steppedPort(first: number, index: number): number {
  if (first === 0) return 0;
  const port = first + index * TESTNET_PORT_STEP;
  if (port > 65_535) throw new RangeError(`Port ${port} of homeserver ${index + 1} is above 65535.`);
  return port;
}
