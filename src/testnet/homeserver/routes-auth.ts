import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthToken, AuthTokenError, parseAuthToken } from '../../homeserver/auth-token.js';
import type { HomeserverContext } from './context.js';
import { HttpError, readSmallBody, sendBytes } from './http.js';
import { strictZ32 } from './pubky-host.js';
import { encodeSessionInfo, type Session, sessionSecretFromCookies } from './session.js';
import { requireUser } from './user-check.js';

const MAX_TOKEN_BYTES = 4096;
const COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600;

/**
 * `POST /signup[?signup_token=…]` (pubky-homeserver v0.6.0 `routes/auth.rs`): body = AuthToken.
 * 400 for a bad token, 409 "User already exists", then (token mode) the signup token checks;
 * creates the user and a session.
 */
export async function signup(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse, url: URL) {
  const token = await readToken(ctx, req);
  const user = token.publicKey.z32;
  if (ctx.state.users.has(user)) throw new HttpError(409, 'User already exists');
  if (ctx.signupMode === 'token') ctx.signupTokens.consume(url.searchParams.get('signup_token'), user);
  ctx.state.setUser({ z32: user, disabled: false });
  respondWithSession(req, res, ctx.sessions.create(token.publicKey, token.capabilities));
}

/** `POST /session`: body = AuthToken of an existing user (a disabled one too); 404 otherwise. */
export async function signin(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse) {
  const token = await readToken(ctx, req);
  requireUser(ctx, token.publicKey.z32, false);
  respondWithSession(req, res, ctx.sessions.create(token.publicKey, token.capabilities));
}

/**
 * `GET /session` (tenant, `routes/tenants/session.rs`): 404 "Not Found" for an unknown user or
 * when the cookie names no session; else SessionInfo.
 */
export function getSession(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse, user: string) {
  requireUser(ctx, user, false);
  const secret = sessionSecretFromCookies(req.headers.cookie, user);
  // As the homeserver: the session is looked up by secret alone.
  const session = secret === undefined ? undefined : ctx.sessions.get(secret);
  if (!session) throw new HttpError(404, 'Not Found');
  sendBytes(res, 200, encodeSessionInfo(session), {
    Vary: 'cookie, pubky-host',
    'Cache-Control': 'private, must-revalidate',
  });
}

/**
 * `DELETE /session` (tenant): deletes the cookie's session if there is one and always answers
 * 200 with a cookie that removes it, so signing out twice is harmless.
 */
export function deleteSession(
  ctx: HomeserverContext,
  req: IncomingMessage,
  res: ServerResponse,
  user: string,
) {
  const secret = sessionSecretFromCookies(req.headers.cookie, user);
  if (secret !== undefined) ctx.sessions.delete(secret);
  const expired = new Date(Date.now() - COOKIE_MAX_AGE_SECONDS * 1000).toUTCString();
  const cookie = `${user}=${cookieAttributes(req.headers.host)}; Max-Age=0; Expires=${expired}`;
  res.writeHead(200, { 'Set-Cookie': cookie }).end();
}

/**
 * Reads and verifies the AuthToken body; errors are 400 with pubky-common's messages
 * (`auth.rs` `Error`), as `From<pubky_common::auth::Error> for HttpError` maps them.
 */
async function readToken(ctx: HomeserverContext, req: IncomingMessage): Promise<AuthToken> {
  const body = await readSmallBody(req, MAX_TOKEN_BYTES);
  try {
    const token = parseAuthToken(body);
    if (!ctx.replay.accept(token)) throw new HttpError(400, 'AuthToken already used');
    return token;
  } catch (error) {
    if (error instanceof AuthTokenError) throw new HttpError(400, upstreamMessage(error.message));
    throw error;
  }
}

function upstreamMessage(message: string): string {
  if (/expired/i.test(message)) return 'AuthToken has a timestamp that is more than 45 seconds in the past';
  if (/future/i.test(message)) return 'AuthToken has a timestamp that is more than 45 seconds in the future';
  if (/version/i.test(message)) return 'Unknown version';
  return message;
}

function respondWithSession(req: IncomingMessage, res: ServerResponse, session: Session): void {
  const expires = new Date(Date.now() + COOKIE_MAX_AGE_SECONDS * 1000).toUTCString();
  const attributes = cookieAttributes(req.headers.host);
  const cookie = `${session.user.z32}=${session.secret}${attributes}; Max-Age=${COOKIE_MAX_AGE_SECONDS}; Expires=${expires}`;
  sendBytes(res, 200, encodeSessionInfo(session), { 'Set-Cookie': cookie });
}

/**
 * `configure_session_cookie`, in the `cookie` crate's attribute order: HttpOnly, then
 * `SameSite=None; Secure` when the Host is a key or a dotted domain (not localhost, an IP, or a
 * name with a port), then Path.
 */
function cookieAttributes(host: string | undefined): string {
  return `; HttpOnly${isSecureHost(host ?? '') ? '; SameSite=None; Secure' : ''}; Path=/`;
}

function isSecureHost(host: string): boolean {
  if (strictZ32(host)) return true;
  if (host.includes(':') || host.startsWith('[') || /^[\d.]+$/.test(host)) return false;
  return host.includes('.');
}
