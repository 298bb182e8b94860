import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface FakeHomeserver {
  url: string;
  /** Every request as `METHOD /path?query`, in arrival order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A tiny HTTP server on 127.0.0.1 that answers as `handler` says: for homeserver behaviour the
 * emulator does not have (older generations, broken feeds). Closed after each test.
 */
export async function startFakeHomeserver(
  handler: (url: URL, request: IncomingMessage) => FakeResponse | Promise<FakeResponse>,
): Promise<FakeHomeserver> {
  const requests: string[] = [];
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    try {
      const answer = await handler(url, request);
      response.writeHead(answer.status ?? 200, answer.headers ?? {});
      response.end(request.method === 'HEAD' ? undefined : answer.body);
    } catch (error) {
      response.writeHead(500);
      response.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake: FakeHomeserver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  fakes.push(fake);
  return fake;
}

const fakes: FakeHomeserver[] = [];
afterEach(async () => {
  for (const fake of fakes.splice(0)) await fake.close();
});

/** An SSE body as a homeserver sends it: `event:` then one `data:` line per data line. */
export function sse(messages: Array<{ event: string; data: string[] }>): FakeResponse {
  return {
    headers: { 'content-type': 'text/event-stream' },
    body: messages.map((m) => `event: ${m.event}\n${m.data.map((d) => `data: ${d}\n`).join('')}\n`).join(''),
  };
}

/** The answer of a homeserver without `/events-stream` (before v0.6): the route is a tenant path. */
export const NO_STREAM: FakeResponse = { status: 404, body: 'Pubky Host is missing' };
