import type { IncomingMessage } from 'node:http';
import type { HomeserverContext } from './context.js';
import { HttpError } from './http.js';
import { sessionSecretFromCookies } from './session.js';

/**
 * The homeserver's authorization layer (pubky-homeserver v0.6.0 `client_server/layers/authz.rs`),
 * run on the raw (still percent-encoded) request path before the path is parsed: `/session`
 * always passes; GET/HEAD under `/pub/` pass; anything outside `/pub/` (and `/dav/`) is 403;
 * every other request needs the tenant's session cookie (401) with a capability whose scope
 * prefixes the raw path and allows writing (403).
 */
export function authorize(
  ctx: HomeserverContext,
  req: IncomingMessage,
  method: string,
  rawPath: string,
  user: string,
): void {
  if (rawPath === '/session') return;
  if (rawPath.startsWith('/pub/')) {
    if (method === 'GET' || method === 'HEAD') return;
  } else if (!rawPath.startsWith('/dav/')) {
    throw new HttpError(403, "Writing to directories other than '/pub/' is forbidden");
  }
  const secret = sessionSecretFromCookies(req.headers.cookie, user);
  if (secret === undefined) throw new HttpError(401, 'No session secret found in cookies');
  const session = ctx.sessions.get(secret);
  if (!session) throw new HttpError(401, 'No session found for session secret');
  if (session.user.z32 !== user) {
    throw new HttpError(401, 'SessionInfo public key does not match pubky-host');
  }
  if (!session.capabilities.some((cap) => cap.write && rawPath.startsWith(cap.scope))) {
    throw new HttpError(403, 'Session does not have write access to path');
  }
}
