import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorize } from './authz.js';
import type { HomeserverContext } from './context.js';
import type { Fault, RouteName } from './faults.js';
import { answerPreflight, HttpError, sendText, setCors, sleep } from './http.js';
import { pubkyHostOf } from './pubky-host.js';
import { deleteSession, getSession, signin, signup } from './routes-auth.js';
import { eventsFeed, eventsStream } from './routes-events.js';
import { deleteFile, headFile, listDirectory, readFile, writeFile } from './routes-files.js';
import { normalizeRequestPath, PathError } from './webdav-path.js';

interface Route {
  name: RouteName;
  /** The request path exactly as sent (percent-encoded, dots unresolved). */
  rawPath: string;
  /** The tenant, for tenant routes that named one. */
  user?: string;
  /** The decoded, normalised path of a tenant route; undefined when it does not parse. */
  path?: string;
  pathError?: PathError;
}

/** Methods per fixed route (pubky-homeserver v0.6.0 `client_server/app.rs` `base`). */
const FIXED_ROUTES: Record<string, { name: RouteName; methods: string[] }> = {
  '/': { name: 'root', methods: ['GET', 'HEAD'] },
  '/signup': { name: 'signup', methods: ['POST'] },
  '/events/': { name: 'events', methods: ['GET', 'HEAD'] },
  '/events-stream': { name: 'events-stream', methods: ['GET', 'HEAD'] },
};
const TENANT_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE'];

/** Entry point for every request: CORS, routing, fault injection, errors as plain-text bodies. */
export async function handleRequest(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse) {
  setCors(req, res);
  if (req.method === 'OPTIONS') return answerPreflight(req, res);
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
  const rawQuery = queryAt === -1 ? '' : target.slice(queryAt + 1);
  const url = new URL(`http://homeserver/?${rawQuery}`);
  const method = req.method ?? 'GET';
  try {
    const route = classify(req, method, rawPath, rawQuery);
    const faults = ctx.faults.take({
      route: route.name,
      method,
      path: route.path ?? rawPath,
      user: route.user,
    });
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

/** Names the route without judging the request (faults apply before any check). */
function classify(req: IncomingMessage, method: string, rawPath: string, rawQuery: string): Route {
  const fixed = FIXED_ROUTES[rawPath];
  if (fixed) return { name: fixed.name, rawPath };
  if (rawPath === '/session' && method === 'POST') return { name: 'session', rawPath };
  const user = pubkyHostOf(req, rawQuery);
  if (rawPath === '/session') return { name: 'session', rawPath, user };
  let path: string | undefined;
  let pathError: PathError | undefined;
  try {
    path = normalizeRequestPath(rawPath);
  } catch (error) {
    if (!(error instanceof PathError)) throw error;
    pathError = error;
  }
  const isRead = method === 'GET' || method === 'HEAD';
  const name: RouteName =
    method === 'DELETE' ? 'delete' : !isRead ? 'write' : path?.endsWith('/') ? 'list' : 'read';
  return { name, rawPath, user, path, pathError };
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

function methodNotAllowed(allowed: string[]): HttpError {
  return new HttpError(405, '', { Allow: allowed.join(',') });
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
  const fixed = FIXED_ROUTES[route.rawPath];
  if (fixed && !fixed.methods.includes(method)) throw methodNotAllowed(fixed.methods);
  switch (fixed?.name) {
    case 'root':
      return sendText(res, 200, 'Pubky Homeserver');
    case 'signup':
      return signup(ctx, req, res, url);
    case 'events':
      return eventsFeed(ctx, res, url);
    case 'events-stream':
      return eventsStream(ctx, req, res, url);
  }
  if (route.rawPath === '/session' && method === 'POST') return signin(ctx, req, res);

  // Tenant routes: pubky host, then the authorization layer, then the path, then the handler.
  const user = route.user;
  if (user === undefined) throw new HttpError(404, 'Pubky Host is missing');
  authorize(ctx, req, method, route.rawPath, user);
  if (route.rawPath === '/session') {
    if (method === 'GET' || method === 'HEAD') return getSession(ctx, req, res, user);
    if (method === 'DELETE') return deleteSession(ctx, req, res, user);
    throw methodNotAllowed(['GET', 'HEAD', 'DELETE', 'POST']);
  }
  if (!TENANT_METHODS.includes(method)) throw methodNotAllowed(TENANT_METHODS);
  if (route.pathError) throw route.pathError;
  const path = route.path as string;
  if (!path.startsWith('/pub/')) throw new HttpError(400, 'Invalid URL: Path must start with /pub/');
  switch (method) {
    case 'PUT':
      return writeFile(ctx, req, res, user, path);
    case 'DELETE':
      return deleteFile(ctx, res, user, path);
    case 'HEAD':
      return headFile(ctx, res, user, path);
    default:
      if (path.endsWith('/')) return listDirectory(ctx, res, user, path, url);
      return readFile(ctx, req, res, user, path, faults);
  }
}
