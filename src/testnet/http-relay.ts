import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerPreflight, setCors } from './homeserver/http.js';

/**
 * A local HTTP relay with pubky-core's "link" channels (pubky-core v0.6.0 `http-relay` crate,
 * after https://httprelay.io/features/link/), the rendezvous of the pubkyauth flow: an app
 * long-polls `GET /link/<channel>`, the signer `POST`s the encrypted AuthToken to the same
 * channel, and whichever comes second completes both requests.
 *
 * Behaviour of the original, kept here:
 * - GET waits for a producer (or takes a waiting one's body at once): 200 with the body.
 * - POST waits for a consumer (or hands the body to a waiting one at once): 200, empty body.
 * - A second GET (or POST) on a channel replaces the waiting one: a replaced GET answers 404
 *   "Not Found", a replaced POST 200.
 * - Unanswered requests end after `requestTimeoutMs` (default 10 minutes) with 408
 *   "Request timed out".
 * - A waiting GET whose client went away stays registered: a POST then answers 200 and its body
 *   is lost. A waiting POST whose client went away still delivers its body.
 * - Bodies over 2 MiB (axum's default limit) are refused with 413.
 */
export interface HttpRelayOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a free port. The pubky static testnet uses 15412. */
  port?: number;
  /** How long a GET or POST waits for its counterpart. Default 10 minutes, as the original. */
  requestTimeoutMs?: number;
}

export interface HttpRelay {
  /** `http://<host>:<port>`. */
  url: string;
  /** `<url>/link`: the base an auth flow appends its channel id to. */
  linkUrl: string;
  port: number;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
const BODY_LIMIT = 2 * 1024 * 1024;

interface Consumer {
  /** False once its client went away: what it is sent then is lost. */
  alive(): boolean;
  deliver(body: Buffer): void;
  replaced(): void;
  timer: NodeJS.Timeout;
}

interface Producer {
  body: Buffer;
  completed(): void;
  timer: NodeJS.Timeout;
}

/** Starts an HTTP relay; see `HttpRelay`. */
export async function startHttpRelay(options: HttpRelayOptions = {}): Promise<HttpRelay> {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const consumers = new Map<string, Consumer>();
  const producers = new Map<string, Producer>();

  const consume = (channel: string, res: ServerResponse) => {
    const producer = producers.get(channel);
    if (producer) {
      producers.delete(channel);
      clearTimeout(producer.timer);
      producer.completed();
      return reply(res, 200, producer.body);
    }
    const previous = consumers.get(channel);
    if (previous) {
      clearTimeout(previous.timer);
      previous.replaced();
    }
    const consumer: Consumer = {
      alive: () => !res.destroyed && !res.writableEnded,
      deliver: (body) => consumer.alive() && reply(res, 200, body),
      replaced: () => consumer.alive() && reply(res, 404, 'Not Found'),
      timer: setTimeout(() => {
        consumers.delete(channel);
        if (consumer.alive()) reply(res, 408, 'Request timed out');
      }, timeoutMs),
    };
    consumers.set(channel, consumer);
  };

  const produce = (channel: string, body: Buffer, res: ServerResponse) => {
    const consumer = consumers.get(channel);
    if (consumer) {
      consumers.delete(channel);
      clearTimeout(consumer.timer);
      consumer.deliver(body);
      return reply(res, 200, '');
    }
    const previous = producers.get(channel);
    if (previous) {
      clearTimeout(previous.timer);
      previous.completed();
    }
    const producer: Producer = {
      body,
      completed: () => reply(res, 200, ''),
      timer: setTimeout(() => {
        producers.delete(channel);
        reply(res, 408, 'Request timed out');
      }, timeoutMs),
    };
    producers.set(channel, producer);
  };

  const server = createServer((req, res) => {
    handle(req, res, consume, produce).catch(() => {
      if (!res.headersSent) reply(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    linkUrl: `${url}/link`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const waiting of [...consumers.values(), ...producers.values()]) clearTimeout(waiting.timer);
        consumers.clear();
        producers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  consume: (channel: string, res: ServerResponse) => void,
  produce: (channel: string, body: Buffer, res: ServerResponse) => void,
): Promise<void> {
  setCors(req, res);
  if (req.method === 'OPTIONS') return answerPreflight(req, res);
  const target = req.url ?? '/';
  const rawPath = target.split('?')[0] ?? '';
  const match = /^\/link\/([^/]+)$/.exec(rawPath);
  let channel: string | undefined;
  try {
    channel = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
  } catch {
    return reply(res, 400, 'Invalid URL');
  }
  if (channel === undefined) return reply(res, 404, '');
  if (req.method === 'GET' || req.method === 'HEAD') return consume(channel, res);
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'GET,HEAD,POST');
    return reply(res, 405, '');
  }
  const body = await readBody(req);
  if (body === undefined) return reply(res, 413, 'Failed to buffer the request body: length limit exceeded');
  produce(channel, body, res);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function reply(res: ServerResponse, status: number, body: string | Buffer): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
