import { PkarrDht } from '../pkdns/dht.js';

/** A small mainline-DHT network on 127.0.0.1 that stores pkarr packets, for tests and the testnet. */
export interface LocalDht {
  /** Every node's `host:port`: pass it as `bootstrap` to `PkarrDht.start`. */
  bootstrap: string[];
  close(): Promise<void>;
}

/**
 * Starts `count` nodes on 127.0.0.1: the first alone, the others joining through it one after the
 * other, so each later node finds all earlier ones and every routing table ends up complete.
 */
export async function startLocalDht(count = 4): Promise<LocalDht> {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`A local DHT needs at least one node, got ${count}.`);
  }
  const nodes: PkarrDht[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.close()));
  };
  try {
    const first = await PkarrDht.start({ bootstrap: [] });
    nodes.push(first);
    while (nodes.length < count) nodes.push(await PkarrDht.start({ bootstrap: [first.address()] }));
  } catch (error) {
    await closeAll();
    throw error;
  }
  return { bootstrap: nodes.map((node) => node.address()), close: closeAll };
}
