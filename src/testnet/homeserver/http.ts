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

/** A CORS preflight, answered 200 with the requested method and headers allowed (tower-http). */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Methods', req.headers['access-control-request-method'] ?? '*');
  res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? '*');
  res.writeHead(200).end();
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

/**
 * Query booleans of listings and `/events/` (`shared/utils.rs` `parse_bool`), case-insensitive:
 * true/yes/1/"" and false/no/0; anything else is 400 "Invalid boolean parameter".
 */
export function parseBool(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  const lower = value.toLowerCase();
  if (['', 'true', 'yes', '1'].includes(lower)) return true;
  if (['false', 'no', '0'].includes(lower)) return false;
  throw new HttpError(400, 'Invalid boolean parameter');
}

/** A decimal u16 (`str::parse::<u16>`, which accepts a leading `+`), or undefined. */
export function parseU16(value: string): number | undefined {
  if (!/^\+?\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 65_535 ? n : undefined;
}

/**
 * `limit` of listings and `/events/` (`ListQueryParams`): absent, empty or not a u16 → the
 * default 100; capped at 1000; 0 is allowed (an empty page).
 */
export function listLimit(value: string | null): number {
  const parsed = value === null ? undefined : parseU16(value);
  return Math.min(parsed ?? 100, 1000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last value of a repeated query parameter (axum's `Query<HashMap>` keeps the last one). */
export function lastParam(query: URLSearchParams, name: string): string | null {
  return query.getAll(name).at(-1) ?? null;
}
