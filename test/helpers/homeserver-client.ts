import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { HomeserverClient } from '../../src/homeserver/index.js';
import { Homeserver } from '../../src/testnet/homeserver/index.js';
import { startTestnet } from '../../src/testnet/testnet.js';

export interface ClientFixture {
  /** The homeserver emulator (the testnet's, with `inTestnet`). */
  hs: Homeserver;
  /** A HomeserverClient for `hs`. */
  client: HomeserverClient;
}

export interface ClientFixtureOptions {
  /** Start once for the whole file (beforeAll/afterAll) instead of before each test. */
  once?: boolean;
  /** Run the homeserver inside a testnet (with its pkarr relay on a free port). */
  inTestnet?: boolean;
}

/**
 * A homeserver and a HomeserverClient for it, started before each test (or once per file) and
 * handed to `ready`, which signs users up, puts files and keeps what the tests use. Closed
 * (with its testnet) after each test (or after the file).
 */
export function homeserverClientFixture(
  options: ClientFixtureOptions,
  ready: (fixture: ClientFixture) => Promise<void>,
): void {
  let close: (() => Promise<void>) | undefined;
  const start = async () => {
    let hs: Homeserver;
    if (options.inTestnet) {
      const testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
      hs = testnet.homeserver;
      close = () => testnet.close();
    } else {
      hs = await Homeserver.start();
      close = () => hs.close();
    }
    await ready({ hs, client: new HomeserverClient({ baseUrl: hs.url }) });
  };
  const stop = async () => {
    await close?.();
    close = undefined;
  };
  if (options.once) {
    beforeAll(start);
    afterAll(stop);
  } else {
    beforeEach(start);
    afterEach(stop);
  }
}

/** Everything an async iterable (a listing, an event stream) yields, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
