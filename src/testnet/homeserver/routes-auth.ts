import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthTokenError, parseAuthToken } from '../../homeserver/auth-token.js';
import type { HomeserverContext } from './context.js';
import { HttpError, readSmallBody, sendBytes, sendText } from './http.js';
import { encodeSessionInfo, type Session } from './session.js';

const MAX_TOKEN_BYTES = 4096;
const COOKIE_MAX_AGE_SECONDS = 31_536_000;

/** `POST /signup[?signup_token=…]`: body = AuthToken; creates the user and a session. */
export async function signup(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse, url: URL) {
  const token = await readToken(ctx, req);
  if (ctx.state.users.has(token.publicKey.z32)) throw new HttpError(409, 'User already exists');
  if (ctx.signupMode === 'token') consumeSignupToken(ctx, url.searchParams.get('signup_token'));
  ctx.state.setUser({ z32: token.publicKey.z32, disabled: false });
  respondWithSession(req, res, ctx.sessions.create(token.publicKey, token.capabilities));
}

/** `POST /session`: body = AuthToken of an existing user; creates a session. */
export async function signin(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse) {
  const token = await readToken(ctx, req);
  const user = ctx.state.users.get(token.publicKey.z32);
  if (!user) throw new HttpError(404, 'User not found');
  if (user.disabled) throw new HttpError(403, 'User is disabled');
  respondWithSession(req, res, ctx.sessions.create(token.publicKey, token.capabilities));
}

/** `GET /session` (tenant): the session named by the cookie. */
export function getSession(ctx: HomeserverContext, req: IncomingMessage, res: ServerResponse, user: string) {
  const session = ctx.sessions.fromCookie(req.headers.cookie, user);
  if (!session) throw new HttpError(404, 'No session');
  sendBytes(res, 200, encodeSessionInfo(session), {
    Vary: 'cookie, pubky-host',
    'Cache-Control': 'private, must-revalidate',
  });
}

/** `DELETE /session` (tenant): signs out and clears the cookie. */
export function deleteSession(
  ctx: HomeserverContext,
  req: IncomingMessage,
  res: ServerResponse,
  user: string,
) {
  const session = ctx.sessions.fromCookie(req.headers.cookie, user);
  if (!session) throw new HttpError(404, 'No session');
  ctx.sessions.delete(session);
  sendText(res, 200, '', { 'Set-Cookie': `${user}=; Path=/; HttpOnly; Max-Age=0` });
}

async function readToken(ctx: HomeserverContext, req: IncomingMessage) {
  const body = await readSmallBody(req, MAX_TOKEN_BYTES);
  try {
    const token = parseAuthToken(body);
    if (!ctx.replay.accept(token)) throw new AuthTokenError('AuthToken already used');
    return token;
  } catch (error) {
    if (error instanceof AuthTokenError) throw new HttpError(401, error.message);
    throw error;
  }
}

function consumeSignupToken(ctx: HomeserverContext, token: string | null): void {
  if (token === null || token === '') throw new HttpError(400, 'Token required');
  if (!/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(token)) throw new HttpError(400, 'Invalid token format');
  const used = ctx.signupTokens.get(token);
  if (used === undefined) throw new HttpError(401, 'Invalid token');
  if (used) throw new HttpError(401, 'Token already used');
  ctx.signupTokens.set(token, true);
}

function respondWithSession(req: IncomingMessage, res: ServerResponse, session: Session): void {
  const expires = new Date(Date.now() + COOKIE_MAX_AGE_SECONDS * 1000).toUTCString();
  let cookie = `${session.user.z32}=${session.secret}; Path=/; HttpOnly; Max-Age=${COOKIE_MAX_AGE_SECONDS}; Expires=${expires}`;
  // As the homeserver: Secure only for real domains, so cookies still work over plain http on localhost.
  if (isDomainHost(req.headers.host)) cookie += '; Secure; SameSite=None';
  sendBytes(res, 200, encodeSessionInfo(session), { 'Set-Cookie': cookie });
}

function isDomainHost(host: string | undefined): boolean {
  const name = (host ?? '').replace(/:\d+$/, '');
  if (name === 'localhost' || /^[\d.]+$/.test(name) || name.startsWith('[')) return false;
  return name.includes('.') || name.length === 52;
}
