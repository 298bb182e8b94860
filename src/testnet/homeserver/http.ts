import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Very permissive CORS, like tower-http's `CorsLayer::very_permissive()` in the homeserver. */
export function setCors(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  res.setHeader('Access-Control-Allow-Origin', origin ?? '*');
  if (origin) {
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'origin, access-control-request-method, access-control-request-headers');
  }
  res.setHeader('Access-Control-Expose-Headers', '*');
}

export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Methods', req.headers['access-control-request-method'] ?? '*');
  res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '*');
  res.setHeader('Access-Control-Max-Age', '86400');
  res.writeHead(204).end();
}

export function sendText(res: ServerResponse, status: number, body: string, headers = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

export function sendBytes(res: ServerResponse, status: number, body: Uint8Array, headers = {}): void {
  res.writeHead(status, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': body.length,
    ...headers,
  });
  res.end(body);
}

/** Reads a small request body (auth tokens), refusing anything larger than `max`. */
export async function readSmallBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new HttpError(413, 'Payload Too Large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Query booleans as the homeserver reads them: true/yes/1/"" and false/no/0. */
export function parseBool(value: string | null, name: string): boolean | undefined {
  if (value === null) return undefined;
  if (['', 'true', 'yes', '1'].includes(value)) return true;
  if (['false', 'no', '0'].includes(value)) return false;
  throw new HttpError(400, `Invalid boolean parameter: ${name}`);
}

export function parseUint(value: string | null, name: string, max: number): number | undefined {
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) throw new HttpError(400, `Invalid ${name}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n > max) throw new HttpError(400, `Invalid ${name}`);
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
