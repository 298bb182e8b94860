import type { IncomingMessage, ServerResponse } from 'node:http';
import { parsePubky } from '../../identity/index.js';
import type { HomeserverContext } from './context.js';
import type { Fault, RouteName } from './faults.js';
import { answerPreflight, HttpError, sendText, setCors, sleep } from './http.js';
import { deleteSession, getSession, signin, signup } from './routes-auth.js';
import { eventsFeed, eventsStream } from './routes-events.js';
import { deleteFile, listDirectory, readFile, writeFile } from './routes-files.js';
import { normalizeRequestPath, PathError } from './webdav-path.js';

interface Route {
  name: RouteName;
  user?: string;
  path: string;
}

/** Entry point for every request: CORS, routing, fault injection, errors as plain-text bodies. */
export async function handleRequest(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse) {
  setCors(req, res);
  if (req.method === 'OPTIONS') return answerPreflight(req, res);
  const url = new URL(req.url ?? '/', 'http://homeserver');
  const method = req.method ?? 'GET';
  try {
    const route = classify(req, url, method);
    const faults = ctx.faults.take({ route: route.name, method, path: route.path, user: route.user });
    if (await applyFaults(req, res, faults)) return;
    await serve(ctx, req, res, url, route, faults);
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
    } else if (error instanceof HttpError) {
      sendText(res, error.status, error.message, error.headers);
    } else if (error instanceof PathError) {
      sendText(res, 400, error.message);
    } else {
      sendText(res, 500, `Internal Server Error: ${(error as Error).message}`);
    }
  }
}

function classify(req: IncomingMessage, url: URL, method: string): Route {
  const raw = url.pathname;
  if (raw === '/') return { name: 'root', path: '/' };
  if (raw === '/signup' && method === 'POST') return { name: 'signup', path: raw };
  if (raw === '/session' && method === 'POST') return { name: 'session', path: raw };
  if (raw === '/events/' || raw === '/events') return { name: 'events', path: raw };
  if (raw === '/events-stream') return { name: 'events-stream', path: raw };
  const user = tenantOf(req, url);
  const path = normalizeRequestPath(raw);
  if (path === '/session') return { name: 'session', user, path };
  if (method === 'PUT') return { name: 'write', user, path };
  if (method === 'DELETE') return { name: 'delete', user, path };
  return { name: path.endsWith('/') ? 'list' : 'read', user, path };
}

/** Tenant: Host when it is a key, overridden by the `pubky-host` header, else `?pubky-host=`. */
function tenantOf(req: IncomingMessage, url: URL): string {
  let tenant: string | undefined;
  for (const candidate of [req.headers.host?.replace(/:\d+$/, ''), req.headers['pubky-host']]) {
    if (typeof candidate !== 'string' || candidate.startsWith('pubky') || candidate.length !== 52) continue;
    try {
      tenant = parsePubky(candidate).z32;
    } catch {
      // not a key: ignored, as the homeserver does
    }
  }
  tenant ??= url.searchParams.get('pubky-host') ?? undefined;
  if (tenant === undefined) throw new HttpError(404, 'Pubky Host is missing');
  try {
    return parsePubky(tenant).z32;
  } catch {
    throw new HttpError(400, 'Invalid Pubky Host');
  }
}

/** Applies request-level faults; true when the request was answered (or killed) by one. */
async function applyFaults(req: IncomingMessage, res: ServerResponse, faults: Fault[]): Promise<boolean> {
  for (const fault of faults) if (fault.kind === 'latency') await sleep(fault.ms);
  for (const fault of faults) {
    if (fault.kind === 'reset') {
      req.socket.resetAndDestroy();
      return true;
    }
    if (fault.kind === 'status') {
      sendText(res, fault.status, fault.body ?? `Injected ${fault.status}`);
      return true;
    }
    if (fault.kind === 'rate-limit') {
      sendText(res, 429, 'Too Many Requests', { 'Retry-After': String(fault.retryAfterSeconds) });
      return true;
    }
  }
  return false;
}

async function serve(
  ctx: HomeserverContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: Route,
  faults: Fault[],
) {
  const method = req.method ?? 'GET';
  const user = route.user as string;
  switch (route.name) {
    case 'root':
      return sendText(res, 200, `Pubky Backup testnet homeserver ${ctx.publicKey.z32}`);
    case 'signup':
      return signup(ctx, req, res, url);
    case 'events':
      return eventsFeed(ctx, res, url);
    case 'events-stream':
      return eventsStream(ctx, req, res, url);
    case 'session':
      if (method === 'POST') return signin(ctx, req, res);
      if (method === 'GET') return getSession(ctx, req, res, user);
      if (method === 'DELETE') return deleteSession(ctx, req, res, user);
      throw new HttpError(405, 'Method Not Allowed');
  }
  if (!route.path.startsWith('/pub/')) {
    throw new HttpError(403, "Writing to directories other than '/pub/' is forbidden");
  }
  switch (route.name) {
    case 'write':
      return writeFile(ctx, req, res, user, route.path);
    case 'delete':
      return deleteFile(ctx, req, res, user, route.path);
    case 'list':
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'Method Not Allowed');
      return listDirectory(ctx, res, user, route.path, url);
    case 'read':
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'Method Not Allowed');
      return readFile(ctx, req, res, user, route.path, faults);
  }
}
