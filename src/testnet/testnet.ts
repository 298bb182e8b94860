import { join } from 'node:path';
import { Keypair } from '../identity/index.js';
import { Homeserver, type HomeserverOptions } from './homeserver/index.js';
import { type PkarrRelay, startPkarrRelay } from './pkarr-relay.js';

/** pubky-core's static testnet ports (pubky-common `constants.rs`, pubky-testnet). */
export const TESTNET_RELAY_PORT = 15411;
export const TESTNET_HOMESERVER_PORT = 6286;

export interface TestnetOptions {
  /** Interface both servers listen on. Default 127.0.0.1. */
  host?: string;
  /** 0 = a free port. Default: 15411 like pubky-core's testnet. */
  relayPort?: number;
  /** 0 = a free port. Default: 6286 like pubky-core's testnet. */
  homeserverPort?: number;
  /** Keep the homeserver's users, files and events here, so the testnet survives restarts. */
  dataDir?: string;
  /** Homeserver identity. Default: the static testnet key (secret = 32 zero bytes). */
  homeserverKeypair?: Keypair;
  homeserver?: Omit<HomeserverOptions, 'keypair' | 'host' | 'port' | 'relays' | 'dataDir'>;
}

export interface Testnet {
  relay: PkarrRelay;
  homeserver: Homeserver;
  close(): Promise<void>;
}

/** A pkarr relay plus a homeserver that announced itself on it: all a Pubky client needs. */
export async function startTestnet(options: TestnetOptions = {}): Promise<Testnet> {
  const host = options.host ?? '127.0.0.1';
  const relay = await startPkarrRelay({
    host,
    port: options.relayPort ?? TESTNET_RELAY_PORT,
    dataDir: options.dataDir && join(options.dataDir, 'relay'),
  });
  try {
    const homeserver = await Homeserver.start({
      ...options.homeserver,
      keypair: options.homeserverKeypair ?? Keypair.fromSecret(new Uint8Array(32)),
      host,
      port: options.homeserverPort ?? TESTNET_HOMESERVER_PORT,
      relays: [relay.url],
      dataDir: options.dataDir && join(options.dataDir, 'homeserver'),
    });
    return {
      relay,
      homeserver,
      async close() {
        await homeserver.close();
        await relay.close();
      },
    };
  } catch (error) {
    await relay.close();
    throw error;
  }
}
