import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerPreflight, HttpError, sendText, setCors } from '../homeserver/http.js';
import type { Homeserver } from '../homeserver/index.js';
import type { AdminContext, AdminRoute } from './admin-route.js';
import { HOMESERVER_ADMIN_ROUTES } from './routes-homeserver.js';
import { TESTNET_ADMIN_ROUTES } from './routes-testnet.js';

/** pubky-homeserver's default admin password (`config.default.toml`). */
export const DEFAULT_ADMIN_PASSWORD = 'admin';

export interface AdminServerOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a free port. The static testnet's admin server listens on 6288. */
  port?: number;
  /** Expected in the `X-Admin-Password` header. Default `admin`. */
  password?: string;
  /** Domain the homeserver publishes (for `/info`). Default `localhost`. */
  icannDomain?: string;
}

/** A running admin server of one homeserver. */
export interface AdminServer {
  /** `http://<host>:<port>`. */
  url: string;
  port: number;
  password: string;
  homeserver: Homeserver;
  close(): Promise<void>;
}

const ROUTES: AdminRoute[] = [...HOMESERVER_ADMIN_ROUTES, ...TESTNET_ADMIN_ROUTES];

/**
 * Starts the admin server of `homeserver` (pubky-homeserver v0.6.0 `admin_server/app.rs`):
 * `GET /` is public; every other route needs `X-Admin-Password` (401 "Missing admin password" /
 * "Invalid admin password"). Besides the homeserver's own routes it serves the testnet's test
 * controls under `/testnet/…`. It keeps answering while the homeserver is stopped.
 */
export async function startAdminServer(
  homeserver: Homeserver,
  options: AdminServerOptions = {},
): Promise<AdminServer> {
  const password = options.password ?? DEFAULT_ADMIN_PASSWORD;
  const ctx: AdminContext = { homeserver, icannDomain: options.icannDomain ?? 'localhost' };
  const server = createServer((req, res) => {
    handle(ctx, password, req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else if (error instanceof HttpError) sendText(res, error.status, error.message, error.headers);
      else sendText(res, 500, `Internal Server Error: ${(error as Error).message}`);
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
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    password,
    homeserver,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(ctx: AdminContext, password: string, req: IncomingMessage, res: ServerResponse) {
  setCors(req, res);
  const method = req.method ?? 'GET';
  if (method === 'OPTIONS') return answerPreflight(req, res);
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  if (rawPath.startsWith('/dav')) return webdav(req, res, password);
  const matching = ROUTES.flatMap((route) => {
    const match = route.pattern.exec(rawPath);
    return match ? [{ route, params: match.slice(1) }] : [];
  });
  if (matching.length === 0) return sendText(res, 404, '');
  const chosen =
    matching.find(({ route }) => route.method === method) ??
    (method === 'HEAD' ? matching.find(({ route }) => route.method === 'GET') : undefined);
  const isPublic = chosen ? chosen.route.public : matching.every(({ route }) => route.public);
  if (!isPublic) checkPassword(req, password);
  if (!chosen) {
    const allowed = matching.map(({ route }) => route.method).join(',');
    throw new HttpError(405, '', { Allow: allowed });
  }
  await chosen.route.handle(ctx, req, res, chosen.params);
}

/** `AdminAuthLayer`: the `X-Admin-Password` header must equal the password. */
function checkPassword(req: IncomingMessage, password: string): void {
  const given = req.headers['x-admin-password'];
  if (given === undefined) throw new HttpError(401, 'Missing admin password');
  if (given !== password) throw new HttpError(401, 'Invalid admin password');
}

/**
 * `/dav…`: the real admin server serves all files over WebDAV (Basic auth `admin:<password>`).
 * Not emulated: after the same authentication check it answers 501.
 */
function webdav(req: IncomingMessage, res: ServerResponse, password: string): void {
  const expected = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  if (req.headers.authorization !== expected) {
    sendText(res, 401, 'Unauthorized', { 'WWW-Authenticate': 'Basic' });
  } else {
    sendText(res, 501, 'WebDAV is not emulated by the Pubky Backup testnet');
  }
}
