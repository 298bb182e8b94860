import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A hostile or broken "relay" for resolver tests: answers every GET with `payload` (any bytes),
 * or never answers at all (`stall`).
 */
export async function startFakeRelay(behaviour: { payload?: Uint8Array; stall?: boolean }) {
  const server: Server = createServer((_req, res) => {
    if (behaviour.stall) return; // keep the request open forever
    if (!behaviour.payload) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/pkarr.org/relays#payload' }).end(behaviour.payload);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A URL where nothing listens (the port was just free). */
export async function deadRelayUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
